"""Stripe in tests: a real localstripe server, signed webhooks, and a loopback stub.

- `localstripe` (session): `localstripe --port <free port> --from-scratch` on 127.0.0.1, as
  a subprocess.
- `stripe_app_config`: app settings pointing the service at it (request it, or override
  `app_config` with it, before `app` is built).
- `stripe_api`: the official stripe client on localstripe, to make paid payment intents and
  to count refunds on "the Stripe side".
- `post_webhook(client, event)`: POST an event signed with Stripe's scheme (HMAC-SHA256 of
  "{t}.{body}" with the endpoint secret), written out here rather than borrowed from the code
  under test.
- `StubStripe`: a tiny HTTP server speaking enough of the refunds API to answer with
  Stripe-shaped errors, drop connections, or hold an answer while forwarding to localstripe.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import stripe

API_KEY = "sk_test_returns_service_123"
WEBHOOK_SECRET = "whsec_test_returns_service"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered on 127.0.0.1:{port}")


class LocalStripe:
    def __init__(self, port: int, process: subprocess.Popen[bytes]):
        self.port, self.process = port, process
        self.url = f"http://127.0.0.1:{port}"

    def client(self) -> stripe.StripeClient:
        return stripe.StripeClient(API_KEY, base_addresses={"api": self.url})

    def paid_payment_intent(self, amount: int, currency: str = "eur") -> str:
        """A confirmed card payment (pm_card_visa), as the store's checkout would leave it."""
        intent = self.client().v1.payment_intents.create(params={
            "amount": amount, "currency": currency.lower(), "payment_method": "pm_card_visa",
            "payment_method_types": ["card"], "confirm": True})
        assert intent.status == "succeeded", intent.status
        return intent.id

    def refunds_for(self, payment_intent: str) -> list[dict[str, Any]]:
        page = self.client().v1.refunds.list(params={"payment_intent": payment_intent,
                                                     "limit": 100})
        return [r.to_dict() for r in page.data]


def _start_localstripe(log_path: Path) -> tuple[int, subprocess.Popen[bytes]]:
    """Start localstripe on a free port; try another port if it exits (port taken)."""
    for _ in range(3):
        port = free_port()
        # --from-scratch: localstripe otherwise loads /tmp/localstripe.pickle, a file every
        # localstripe on the machine rewrites (a half-written one stops it from starting).
        command = [str(Path(sys.executable).parent / "localstripe"), "--port", str(port),
                   "--from-scratch"]
        with log_path.open("ab") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                       env={**os.environ, "PYTHONWARNINGS": "ignore"})
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            try:
                wait_for_port(port, timeout=1)
                return port, process
            except RuntimeError:
                continue
        process.kill()
        process.wait(timeout=10)
    raise RuntimeError(f"localstripe did not start: {log_path.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    port, process = _start_localstripe(tmp_path_factory.mktemp("localstripe") / "log")
    try:
        yield LocalStripe(port, process)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def stripe_app_config(app_config: dict[str, Any], localstripe: LocalStripe) -> dict[str, Any]:
    app_config.update(STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=localstripe.url,
                      STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    return app_config


# --- webhooks ---------------------------------------------------------------------------

_event_ids = itertools.count(1)


def stripe_event(event_type: str, obj: dict[str, Any], *, event_id: str | None = None,
                 created: int | None = None) -> dict[str, Any]:
    """An event envelope as Stripe sends it."""
    return {"id": event_id or f"evt_test_{os.getpid()}_{next(_event_ids)}", "object": "event",
            "api_version": "2025-01-27.acacia", "created": created or int(time.time()),
            "livemode": False, "pending_webhooks": 1, "type": event_type,
            "data": {"object": obj}}


def sign(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body" keyed by the secret>."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def post_webhook(client: Any, event: dict[str, Any] | bytes, *, secret: str = WEBHOOK_SECRET,
                 timestamp: int | None = None, signature: str | None = None) -> Any:
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    header = signature if signature is not None else sign(body, secret, timestamp)
    return client.post("/webhooks/stripe", data=body,
                       headers={"Stripe-Signature": header, "Content-Type": "application/json"})


def refund_object(refund_id: str, *, amount: int, payment_intent: str,
                  status: str = "succeeded", currency: str = "eur",
                  metadata: dict[str, str] | None = None,
                  failure_reason: str | None = None) -> dict[str, Any]:
    return {"id": refund_id, "object": "refund", "amount": amount, "currency": currency,
            "payment_intent": payment_intent, "charge": "ch_" + payment_intent[3:],
            "status": status, "metadata": metadata or {}, "failure_reason": failure_reason,
            "created": int(time.time())}


# --- a loopback stub Stripe ---------------------------------------------------------------

@dataclass
class Fail:
    """Answer POST /v1/refunds with a Stripe-shaped error."""

    status: int
    code: str | None = None
    message: str = "An error occurred."
    type: str = "api_error"


@dataclass
class Drop:
    """Close the connection without answering (a network failure)."""


@dataclass
class Hold:
    """Forward the request (so the refund exists upstream), then wait before answering."""

    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)


@dataclass
class Seen:
    method: str
    path: str
    idempotency_key: str | None
    form: dict[str, str]
    stripe_version: str | None = None
    target: str = ""  # the request line's target: an absolute URL when sent through a proxy


class StubStripe:
    """Speaks Stripe's refunds API on 127.0.0.1. Scripted actions answer POST /v1/refunds one
    by one; after the script (or for anything else) it creates refunds itself, or forwards to
    `upstream` (localstripe) when given. Like localstripe, it does not dedupe idempotency
    keys, so any exactly-once behaviour seen through it is the service's own."""

    def __init__(self, upstream: str | None = None):
        self.upstream = upstream
        self.refund_status = "succeeded"  # what refunds it creates itself start as
        # Fields its own refunds are answered with whatever was asked (a Stripe that reports
        # another amount or currency than the request's), e.g. {"currency": "usd"}.
        self.answer: dict[str, Any] = {}
        self.script: list[Fail | Drop | Hold] = []
        self.seen: list[Seen] = []
        self.refunds: list[dict[str, Any]] = []  # oldest first; a test may add its own
        self.pages_served = 0  # answers to GET /v1/refunds
        self.page_size = 100  # the most a page holds, whatever `limit` asks (Stripe: 100)
        # A refund whose payment_intent is null (as in Stripe's fixtures) is listed under
        # the payment intent of its charge, as Stripe lists it.
        self.intent_of_charge: dict[str, str] = {}
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                stub._handle(self, "GET")

            def do_POST(self) -> None:
                stub._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StubStripe:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        for action in self.script:
            if isinstance(action, Hold):
                action.release.set()
        self.server.shutdown()
        self.server.server_close()

    def creates(self) -> list[Seen]:
        return [s for s in self.seen if s.method == "POST" and s.path == "/v1/refunds"]

    # -- request handling --
    def _handle(self, req: BaseHTTPRequestHandler, method: str) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if length else b""
        parsed = urllib.parse.urlsplit(req.path)
        form = dict(urllib.parse.parse_qsl(body.decode() or parsed.query))
        seen = Seen(method, parsed.path, req.headers.get("Idempotency-Key"), form,
                    req.headers.get("Stripe-Version"), req.path)
        action = None
        with self._lock:
            self.seen.append(seen)
            if method == "POST" and parsed.path == "/v1/refunds" and self.script:
                action = self.script.pop(0)
        if isinstance(action, Drop):
            req.close_connection = True
            req.connection.shutdown(socket.SHUT_RDWR)
            return
        if isinstance(action, Fail):
            error = {"type": action.type, "message": action.message}
            if action.code:
                error["code"] = action.code
            self._send(req, action.status, {"error": error})
            return
        if self.upstream:
            status, payload = self._forward(req, method, body)
        else:
            status, payload = self._local(method, parsed.path, form)
        if isinstance(action, Hold):
            action.arrived.set()
            action.release.wait(timeout=60)
        self._send(req, status, payload)

    def _forward(self, req: BaseHTTPRequestHandler, method: str,
                 body: bytes) -> tuple[int, Any]:
        headers = {k: v for k, v in req.headers.items()
                   if k.lower() in ("authorization", "content-type", "idempotency-key",
                                    "stripe-version")}
        request = urllib.request.Request(self.upstream + req.path, data=body or None,
                                         headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def _local(self, method: str, path: str, form: dict[str, str]) -> tuple[int, Any]:
        if method == "POST" and path == "/v1/refunds":
            refund = {"id": f"re_stub_{len(self.refunds) + 1}", "object": "refund",
                      "amount": int(form["amount"]), "currency": "eur",
                      "status": self.refund_status,
                      "payment_intent": form["payment_intent"],
                      "charge": "ch_" + form["payment_intent"].removeprefix("pi_"),
                      "metadata": {k[9:-1]: v for k, v in form.items()
                                   if k.startswith("metadata[")}, **self.answer}
            with self._lock:
                self.refunds.append(refund)
            return 200, refund
        if method == "GET" and path.startswith("/v1/refunds/"):
            found = [r for r in self.refunds if r["id"] == path.rsplit("/", 1)[1]]
            if found:
                return 200, found[0]
        if method == "GET" and path == "/v1/refunds":
            return 200, self._page(form)
        return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                               "message": f"Unrecognized request URL ({method}: {path})."}}

    def _page(self, form: dict[str, str]) -> dict[str, Any]:
        """A page of GET /v1/refunds as Stripe pages it: newest first, filtered by
        payment_intent or charge, `limit` (default 10) after `starting_after`, `has_more`."""
        def intent(refund: dict[str, Any]) -> str | None:
            return refund.get("payment_intent") or self.intent_of_charge.get(refund.get("charge"))

        with self._lock:
            data = [r for r in self.refunds[::-1]
                    if form.get("charge", r.get("charge")) == r.get("charge")
                    and form.get("payment_intent", intent(r)) == intent(r)]
            self.pages_served += 1
        after = form.get("starting_after")
        if after:
            ids = [r["id"] for r in data]
            data = data[ids.index(after) + 1:] if after in ids else []
        limit = min(int(form.get("limit") or 10), self.page_size)
        return {"object": "list", "data": data[:limit], "has_more": len(data) > limit,
                "url": "/v1/refunds"}

    @staticmethod
    def _send(req: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        try:
            req.send_response(status)
            req.send_header("Content-Type", "application/json")
            req.send_header("Content-Length", str(len(data)))
            req.send_header("Request-Id", "req_stub")
            req.end_headers()
            req.wfile.write(data)
        except OSError:  # the client went away (a killed worker)
            pass


@pytest.fixture
def stub_stripe() -> Iterator[StubStripe]:
    with StubStripe() as stub:
        yield stub
