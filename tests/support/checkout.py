"""A loopback fake of Stripe's Checkout Session endpoints, driven through the real `stripe`
client (point STRIPE_API_BASE, or `base_addresses={"api": fake.url}`, at it).

Speaks what the service uses: create a session (`POST /v1/checkout/sessions`, idempotency
keys honoured like Stripe's), retrieve one, list its line items page by page (`limit`,
`starting_after`, `has_more`; `expand[]=data.price.product`). For instant exchanges: a
customer (`POST /v1/customers`), a session in `setup` mode whose completion leaves a
SetupIntent (`GET /v1/setup_intents/{id}`) with a saved card, and off-session
PaymentIntents on that card (`POST /v1/payment_intents` with `confirm`, `off_session`;
`GET /v1/payment_intents?customer=`), a declining card answering 402 `card_declined`.
localstripe has no Checkout Sessions (and is GPL: run only as a process), so this is the
project's own code.

With `upstream` (localstripe), every other request is forwarded there, so one
STRIPE_API_BASE serves the refunds of an imported order too.

What the customer does at Stripe's hosted page is the test's part: `complete(session_id, …)`
marks a session paid with a payment intent (made at localstripe when refunds must work).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.support.loopback import LoopbackServer, send

_ids = itertools.count(1)


def _new_id(prefix: str) -> str:
    return f"{prefix}_test_{next(_ids):06d}{int(time.time() * 1000) % 10**8:08d}"


def nested(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (`line_items[0][price_data][currency]=eur`) back to objects:
    numeric keys make lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if isinstance(node, list):
                position = int(part)
                while len(node) <= position:
                    node.append({})
                if last:
                    node[position] = value
                else:
                    if not isinstance(node[position], dict | list) or node[position] == {}:
                        node[position] = [] if parts[index + 1].isdigit() else {}
                    node = node[position]
            else:
                if last and key.endswith("[]"):
                    node.setdefault(part, []).append(value)  # expand[]=a&expand[]=b
                elif last:
                    node[part] = value
                else:
                    node = node.setdefault(part, [] if parts[index + 1].isdigit() else {})
    return root


class FakeCheckout(LoopbackServer):
    """Checkout Sessions and their line items, in memory, on 127.0.0.1."""

    def __init__(self, upstream: str | None = None) -> None:
        super().__init__()
        self.upstream = upstream  # where anything else goes (localstripe: payments, refunds)
        self.sessions: dict[str, dict[str, Any]] = {}
        self.line_items: dict[str, list[dict[str, Any]]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[str, dict[str, Any]] = {}
        self.page_size = 100  # the most a page holds, whatever `limit` asks (Stripe: 100)
        self.pages_served = 0
        self.requests: list[tuple[str, str]] = []
        self.customers: dict[str, dict[str, Any]] = {}
        self.setup_intents: dict[str, dict[str, Any]] = {}
        self.payment_methods: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        # Set to hold the answer to the next PaymentIntent creation (made, not answered).
        self.hold_payment_intent: threading.Event | None = None
        self.payment_intent_arrived = threading.Event()
        self._lock = threading.Lock()
        self.url = self.root

    # -- what happens at Stripe's hosted page -------------------------------------------
    def complete(self, session_id: str, *, payment_intent: str | None, email: str,
                 name: str, shipping: int = 0, payment_status: str = "paid",
                 discounts: dict[int, int] | None = None,
                 taxes: dict[int, int] | None = None) -> dict[str, Any]:
        """The customer paid: the session as Stripe then shows it (and as the
        checkout.session.completed event carries it). `discounts`/`taxes`: per line index,
        in Stripe amounts."""
        with self._lock:
            session = self.sessions[session_id]
            for index, item in enumerate(self.line_items[session_id]):
                item["amount_discount"] = (discounts or {}).get(index, 0)
                item["amount_tax"] = (taxes or {}).get(index, 0)
                item["amount_total"] = (item["amount_subtotal"] - item["amount_discount"]
                                        + item["amount_tax"])
            items = self.line_items[session_id]
            session.update(
                status="complete", payment_status=payment_status,
                payment_intent=payment_intent,
                customer_details={"email": email, "name": name, "address": None},
                shipping_cost={"amount_subtotal": shipping, "amount_total": shipping,
                               "amount_tax": 0} if shipping else None,
                amount_total=sum(i["amount_total"] for i in items) + shipping,
                total_details={"amount_discount": sum(i["amount_discount"] for i in items),
                               "amount_shipping": shipping,
                               "amount_tax": sum(i["amount_tax"] for i in items)})
            return json.loads(json.dumps(session))

    def expire(self, session_id: str) -> dict[str, Any]:
        """The session lapsed unpaid (as checkout.session.expired carries it)."""
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="expired")
            return json.loads(json.dumps(session))

    def complete_setup(self, session_id: str, *, declines: bool = False) -> dict[str, Any]:
        """The customer saved a card at the hosted page of a `setup` session: a SetupIntent
        with the card as its payment method. `declines`: a card later charges will fail on."""
        with self._lock:
            session = self.sessions[session_id]
            method = {"id": _new_id("pm"), "object": "payment_method", "type": "card",
                      "customer": session.get("customer"),
                      "card": {"brand": "visa", "last4": "0341" if declines else "4242"}}
            self.payment_methods[method["id"]] = method
            intent = {"id": _new_id("seti"), "object": "setup_intent", "status": "succeeded",
                      "usage": "off_session", "customer": session.get("customer"),
                      "payment_method": method["id"], "metadata": session["metadata"]}
            self.setup_intents[intent["id"]] = intent
            session.update(status="complete", setup_intent=intent["id"])
            return json.loads(json.dumps(session))

    def charges(self) -> list[dict[str, Any]]:
        """The PaymentIntents that took money."""
        with self._lock:
            return [dict(p) for p in self.payment_intents.values()
                    if p["status"] == "succeeded"]

    def pay_later(self, session_id: str, *, payment_intent: str) -> dict[str, Any]:
        """An asynchronous payment (a bank debit) went through after completion."""
        with self._lock:
            session = self.sessions[session_id]
            session.update(payment_status="paid", payment_intent=payment_intent)
            return json.loads(json.dumps(session))

    # -- the API ---------------------------------------------------------------------------
    def handle(self, req: BaseHTTPRequestHandler, method: str) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length).decode() if length else ""
        parsed = urllib.parse.urlsplit(req.path)
        params = nested(urllib.parse.parse_qsl(body if method == "POST" else parsed.query))
        with self._lock:
            self.requests.append((method, parsed.path))
        if method == "GET" and parsed.path.startswith("/pay/"):  # the hosted page
            self._hosted_page(req, parsed.path.removeprefix("/pay/"))
            return
        if not (req.headers.get("Authorization") or "").startswith("Bearer sk_"):
            self._send(req, 401, {"error": {"type": "invalid_request_error",
                                            "message": "No valid API key provided."}})
            return
        key = req.headers.get("Idempotency-Key")
        match = re.fullmatch(r"/v1/checkout/sessions(?:/([^/]+))?(/line_items)?", parsed.path)
        if method == "POST" and parsed.path == "/v1/payment_intents":
            self._payment_intent(req, params, key)
            return
        with self._lock:
            other = self._other(method, parsed.path, params, key)
            if other is not None:
                status, answer = other
            elif method == "POST" and match and not match.group(1):
                if key and key in self.idempotent:
                    status, answer = 200, self.idempotent[key]
                else:
                    status, answer = 200, self._create(params)
                    if key:
                        self.idempotent[key] = answer
            elif method == "GET" and match and match.group(1) in self.sessions:
                if match.group(2):
                    status, answer = 200, self._page(match.group(1), params)
                else:
                    status, answer = 200, self.sessions[match.group(1)]
            elif self.upstream:
                status, answer = -1, None
            else:
                status, answer = 404, {"error": {
                    "type": "invalid_request_error", "code": "resource_missing",
                    "message": f"No such resource: {method} {parsed.path}"}}
            data = json.dumps(answer).encode()
        if status == -1:
            status, data = self._forward(req, method, body)
        self._send(req, status, data)

    def _other(self, method: str, path: str, params: dict[str, Any],
               key: str | None) -> tuple[int, Any] | None:
        """Customers, SetupIntents and the listing of PaymentIntents (under the lock)."""
        missing = (404, {"error": {"type": "invalid_request_error",
                                   "code": "resource_missing", "message": f"No such {path}"}})
        if method == "POST" and path == "/v1/customers":
            if key and key in self.idempotent:
                return 200, self.idempotent[key]
            customer = {"id": _new_id("cus"), "object": "customer",
                        "email": params.get("email"), "metadata": params.get("metadata") or {}}
            self.customers[customer["id"]] = customer
            if key:
                self.idempotent[key] = customer
            return 200, customer
        if method == "GET" and path.startswith("/v1/setup_intents/"):
            found = self.setup_intents.get(path.rsplit("/", 1)[1])
            return (200, found) if found else missing
        if method == "GET" and path == "/v1/payment_intents":
            data = [p for p in self.payment_intents.values()
                    if p.get("customer") == params.get("customer")]
            return 200, {"object": "list", "data": data, "has_more": False,
                         "url": "/v1/payment_intents"}
        return None

    def _payment_intent(self, req: BaseHTTPRequestHandler, params: dict[str, Any],
                        key: str | None) -> None:
        """Create (and, with `confirm`, charge) a PaymentIntent on a saved card. Idempotency
        keys are honoured as Stripe does: the same key answers the first answer again."""
        with self._lock:
            if key and key in self.idempotent:
                status, answer = self.idempotent[key]
                self._send(req, status, answer)
                return
            method = self.payment_methods.get(params.get("payment_method") or "")
            declines = method is not None and method["card"]["last4"] == "0341"
            intent = {"id": _new_id("pi"), "object": "payment_intent",
                      "amount": int(params.get("amount", 0)),
                      "currency": params.get("currency"), "customer": params.get("customer"),
                      "payment_method": params.get("payment_method"),
                      "off_session": params.get("off_session") == "true",
                      "metadata": params.get("metadata") or {},
                      "status": "requires_payment_method" if declines or method is None
                      else "succeeded" if params.get("confirm") == "true"
                      else "requires_confirmation"}
            self.payment_intents[intent["id"]] = intent
            if declines or method is None:
                status, answer = 402, {"error": {
                    "type": "card_error", "code": "card_declined",
                    "decline_code": "insufficient_funds", "payment_intent": intent,
                    "message": "Your card was declined."}}
            else:
                status, answer = 200, intent
            if key:
                self.idempotent[key] = (status, answer)
            hold = self.hold_payment_intent
            self.hold_payment_intent = None
        self.payment_intent_arrived.set()
        if hold is not None:  # made at "Stripe", the answer held back (a worker killed now)
            hold.wait(timeout=120)
            return
        self._send(req, status, answer)

    def _forward(self, req: BaseHTTPRequestHandler, method: str,
                 body: str) -> tuple[int, bytes]:
        headers = {k: v for k, v in req.headers.items()
                   if k.lower() in ("authorization", "content-type", "idempotency-key",
                                    "stripe-version")}
        request = urllib.request.Request(f"{self.upstream}{req.path}",
                                         data=body.encode() or None, headers=headers,
                                         method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def _hosted_page(self, req: BaseHTTPRequestHandler, session_id: str) -> None:
        """A stand-in for Stripe's hosted page: what is to pay (the test then completes or
        expires the session, as the customer or time would)."""
        with self._lock:
            session = self.sessions.get(session_id)
        total = session["amount_total"] if session else 0
        heading = ("Save a card" if session and session.get("mode") == "setup"
                   else f"Pay {total} {(session or {}).get('currency', '').upper()}")
        body = f"<!doctype html><title>Fake Checkout</title><h1>{heading}</h1>".encode()
        req.send_response(200 if session else 404)
        req.send_header("Content-Type", "text/html; charset=utf-8")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    def _create(self, params: dict[str, Any]) -> dict[str, Any]:
        session_id = _new_id("cs")
        currency = params.get("currency")
        items = []
        for entry in params.get("line_items", []):
            price_data = entry.get("price_data") or {}
            product_data = price_data.get("product_data") or {}
            product_id = _new_id("prod")
            product = {"id": product_id, "object": "product",
                       "name": product_data.get("name", "Item"),
                       "metadata": product_data.get("metadata") or {}}
            self.products[product_id] = product
            currency = price_data.get("currency", "eur")
            unit = int(price_data.get("unit_amount", 0))
            quantity = int(entry.get("quantity", 1))
            items.append({"id": _new_id("li"), "object": "item",
                          "amount_subtotal": unit * quantity, "amount_discount": 0,
                          "amount_tax": 0, "amount_total": unit * quantity,
                          "currency": currency, "description": product["name"],
                          "quantity": quantity,
                          "price": {"id": _new_id("price"), "object": "price",
                                    "currency": currency, "unit_amount": unit,
                                    "metadata": price_data.get("metadata") or {},
                                    "product": product_id}})
        subtotal = sum(i["amount_subtotal"] for i in items)
        if params.get("mode") == "setup":
            items = []
        session = {"id": session_id, "object": "checkout.session",
                   "customer": params.get("customer"), "setup_intent": None,
                   "mode": params.get("mode", "payment"), "status": "open",
                   "payment_status": "unpaid", "currency": currency or "eur",
                   "amount_subtotal": subtotal, "amount_total": subtotal,
                   "metadata": params.get("metadata") or {},
                   "customer_email": params.get("customer_email"),
                   "customer_details": None, "payment_intent": None,
                   "shipping_cost": None, "created": int(time.time()),
                   "success_url": params.get("success_url"),
                   "url": f"{self.url}/pay/{session_id}",
                   "total_details": {"amount_discount": 0, "amount_shipping": 0,
                                     "amount_tax": 0}}
        self.sessions[session_id] = session
        self.line_items[session_id] = items
        return session

    def _page(self, session_id: str, params: dict[str, Any]) -> dict[str, Any]:
        self.pages_served += 1
        items = self.line_items[session_id]
        after = params.get("starting_after")
        if after:
            ids = [i["id"] for i in items]
            items = items[ids.index(after) + 1:] if after in ids else []
        limit = min(int(params.get("limit") or 10), self.page_size)
        expand = params.get("expand") or []
        expand = [expand] if isinstance(expand, str) else expand
        page = json.loads(json.dumps(items[:limit]))
        if "data.price.product" in expand:
            for item in page:
                item["price"]["product"] = self.products[item["price"]["product"]]
        return {"object": "list", "data": page, "has_more": len(items) > limit,
                "url": f"/v1/checkout/sessions/{session_id}/line_items"}

    @staticmethod
    def _send(req: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        send(req, status, data, headers={"Request-Id": "req_fake_checkout"})


@pytest.fixture
def fake_checkout() -> Iterator[FakeCheckout]:
    with FakeCheckout() as fake:
        yield fake
