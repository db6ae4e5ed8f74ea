"""EasyPost in tests: a loopback fake of the endpoints the service uses, driven through the
real `easypost` library (the service's EasyPostClient gets `api_base=fake.url`), and signed
webhook events.

The fake speaks: POST /v2/shipments (with rates), GET /v2/shipments (newest first, from
`start_datetime`), GET /v2/shipments/<id>, POST /v2/shipments/<id>/buy (refuses a second buy,
as EasyPost does), POST /v2/shipments/<id>/refund, POST /v2/shipments/<id>/forms
(`label_qr_code`, for USPS labels only), GET /v2/trackers/<id>, GET /labels/<id>.pdf and
/qr/<id>.png (the files). `script` answers the next create or buy with an error, or holds a
create's or a buy's answer after it is recorded (a worker killed mid-call)."""

from __future__ import annotations

import hashlib
import hmac
import io
import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

import pytest
import segno

from returns_service.common import clock
from tests.support.loopback import LoopbackServer, send, send_json


def _qr_png() -> bytes:
    """A real PNG (the browser draws it): the QR code of a made-up label."""
    out = io.BytesIO()
    segno.make("USPS-LABEL-BROKER-TEST", error="m").save(out, kind="png", scale=4)
    return out.getvalue()


API_KEY = "EZTK_test_returns_service"
WEBHOOK_SECRET = "easypost-webhook-secret"
LABEL_PDF = b"%PDF-1.4\n% a return label\n%%EOF\n"
QR_PNG = _qr_png()
RATES = (("USPS", "Priority", "7.58"), ("UPS", "Ground", "9.10"), ("FedEx", "Ground", "6.00"))
_ids = itertools.count(1)


@dataclass
class Error:
    """Answer the next matching call with an EasyPost-shaped error."""

    on: str  # "create" or "buy"
    status: int = 422
    code: str = "ADDRESS.VERIFY.FAILURE"
    message: str = "Unable to verify address."
    after_create: bool = False  # the shipment is created, only the answer is lost


@dataclass
class HoldBuy:
    """Record the purchase, then wait before answering (the answer may never arrive)."""

    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)


@dataclass
class HoldCreate:
    """Record the new shipment, then wait before answering (the answer may never arrive)."""

    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)


class FakeEasyPost(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.shipments: dict[str, dict[str, Any]] = {}
        self.trackers: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str, Any]] = []
        self.script: list[Error | HoldBuy | HoldCreate] = []
        self._lock = threading.Lock()
        self.url = f"{self.root}/v2"

    def stop(self) -> None:
        for action in self.script:  # let held answers go, so the server can shut down
            if isinstance(action, HoldBuy | HoldCreate):
                action.release.set()
        super().stop()

    def buys(self) -> list[str]:
        return [path for method, path, _ in self.calls if path.endswith("/buy")]

    def creates(self) -> list[Any]:
        return [body for method, path, body in self.calls
                if method == "POST" and path == "/v2/shipments"]

    def tracker_moves(self, tracker_id: str, status: str) -> None:
        """The carrier scanned the parcel: the tracker says `status` (no webhook sent)."""
        with self._lock:
            tracker = self.trackers[tracker_id]
            tracker.update(status=status, updated_at=_now())
            tracker["tracking_details"].append({"object": "TrackingDetail", "status": status,
                                                "datetime": _now(), "message": status})

    def _next(self, on: str) -> Error | HoldBuy | HoldCreate | None:
        with self._lock:
            for action in self.script:
                if (isinstance(action, Error) and action.on == on) or (
                        isinstance(action, HoldBuy) and on == "buy") or (
                        isinstance(action, HoldCreate) and on == "create"):
                    self.script.remove(action)
                    return action
        return None

    def handle(self, req: BaseHTTPRequestHandler, method: str) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        body = json.loads(req.rfile.read(length) or b"{}") if length else {}
        path, _, query_string = req.path.partition("?")
        query = dict(parse_qsl(query_string))
        with self._lock:
            self.calls.append((method, path, body or query))
        if method == "GET" and path.startswith("/labels/"):
            self._send(req, 200, LABEL_PDF, "application/pdf")
            return
        if method == "GET" and path.startswith("/qr/"):
            self._send(req, 200, QR_PNG, "image/png")
            return
        if not req.headers.get("Authorization", "").startswith("Bearer "):
            self._error(req, 401, "APIKEY.REQUIRED", "No API key.")
            return
        parts = path.removeprefix("/v2/").split("/")
        if method == "POST" and parts == ["shipments"]:
            action = self._next("create")
            if isinstance(action, Error) and not action.after_create:
                self._error(req, action.status, action.code, action.message)
                return
            created = self._create(body["shipment"])
            if isinstance(action, Error):
                self._error(req, action.status, action.code, action.message)
                return
            if isinstance(action, HoldCreate):
                action.arrived.set()
                action.release.wait(timeout=60)
            self._json(req, 201, created)
            return
        if method == "GET" and parts == ["shipments"]:
            self._json(req, 200, self._list(query))
            return
        if method == "GET" and len(parts) == 2 and parts[0] == "trackers":
            tracker = self.trackers.get(parts[1])
            if tracker is None:
                self._error(req, 404, "NOT_FOUND", "The requested resource could not be found.")
            else:
                self._json(req, 200, tracker)
            return
        shipment = self.shipments.get(parts[1]) if len(parts) > 1 else None
        if shipment is None:
            self._error(req, 404, "NOT_FOUND", "The requested resource could not be found.")
        elif method == "GET" and len(parts) == 2:
            self._json(req, 200, shipment)
        elif method == "POST" and parts[2:] == ["buy"]:
            action = self._next("buy")
            if isinstance(action, Error):
                self._error(req, action.status, action.code, action.message)
                return
            if shipment["postage_label"] is not None:
                self._error(req, 422, "SHIPMENT.POSTAGE.EXISTS", "Postage already exists.")
                return
            self._buy(shipment, body["rate"]["id"])
            if isinstance(action, HoldBuy):
                action.arrived.set()
                action.release.wait(timeout=60)
            self._json(req, 200, shipment)
        elif method == "POST" and parts[2:] == ["forms"]:
            carrier = (shipment.get("selected_rate") or {}).get("carrier")
            if body.get("form", {}).get("type") != "label_qr_code" or carrier != "USPS":
                self._error(req, 422, "FORM.UNSUPPORTED", "The carrier offers no QR code.")
                return
            shipment["forms"] = [{"id": f"form_{shipment['id']}", "object": "Form",
                                  "form_type": "label_qr_code",
                                  "form_url": f"{self.root}/qr/{shipment['id']}.png"}]
            self._json(req, 200, shipment)
        elif method == "POST" and parts[2:] == ["refund"]:
            shipment["refund_status"] = "submitted"
            self._json(req, 200, shipment)
        else:
            self._error(req, 404, "NOT_FOUND", f"{method} {path}")

    def _create(self, params: dict[str, Any]) -> dict[str, Any]:
        shipment_id = f"shp_fake{next(_ids)}"
        shipment = {
            "id": shipment_id, "object": "Shipment", "mode": "test", "is_return":
            bool(params.get("is_return")), "reference": params.get("reference"),
            "to_address": params.get("to_address"), "from_address": params.get("from_address"),
            "parcel": params.get("parcel"), "postage_label": None, "tracking_code": None,
            "selected_rate": None, "tracker": None, "refund_status": None, "forms": [],
            "created_at": _now(),
            "rates": [{"id": f"rate_{shipment_id}_{n}", "object": "Rate", "carrier": carrier,
                       "service": service, "rate": rate, "currency": "USD",
                       "shipment_id": shipment_id}
                      for n, (carrier, service, rate) in enumerate(RATES)]}
        with self._lock:
            self.shipments[shipment_id] = shipment
        return shipment

    def _buy(self, shipment: dict[str, Any], rate_id: str) -> None:
        rate = next(r for r in shipment["rates"] if r["id"] == rate_id)
        number = shipment["id"].removeprefix("shp_fake")
        shipment.update(
            selected_rate=rate, tracking_code=f"9400TEST{number:0>10}",
            postage_label={"id": f"pl_{number}", "object": "PostageLabel",
                           "label_url": f"{self.root}/labels/{shipment['id']}.pdf",
                           "label_file_type": "application/pdf"},
            tracker={"id": f"trk_fake{number}", "object": "Tracker",
                     "est_delivery_date": "2026-03-09T00:00:00Z"})
        self.trackers[f"trk_fake{number}"] = {
            "id": f"trk_fake{number}", "object": "Tracker", "status": "pre_transit",
            "tracking_code": shipment["tracking_code"], "shipment_id": shipment["id"],
            "est_delivery_date": "2026-03-09T00:00:00Z", "updated_at": _now(),
            "tracking_details": []}

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        """Newest first, created at or after `start_datetime` (ids count up)."""
        since = query.get("start_datetime", "")
        with self._lock:
            found = [s for s in self.shipments.values()
                     if not since or datetime.fromisoformat(s["created_at"].replace(
                         "Z", "+00:00")) >= datetime.fromisoformat(since)]
        found.sort(key=lambda s: int(s["id"].removeprefix("shp_fake")), reverse=True)
        return {"shipments": found, "has_more": False}

    def _error(self, req: BaseHTTPRequestHandler, status: int, code: str, message: str) -> None:
        self._json(req, status, {"error": {"code": code, "message": message, "errors": []}})

    def _json(self, req: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
        send_json(req, status, payload)

    @staticmethod
    def _send(req: BaseHTTPRequestHandler, status: int, data: bytes, content_type: str) -> None:
        send(req, status, data, content_type)


@pytest.fixture
def easypost_fake() -> Iterator[FakeEasyPost]:
    with FakeEasyPost() as fake:
        yield fake


def _now() -> str:
    """The service's clock (tests freeze it): the fake's dates agree with the service's."""
    return clock.utcnow().astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- webhooks ---------------------------------------------------------------------------

_events = itertools.count(1)


def tracker_event(tracker_id: str, status: str, *, event_id: str | None = None,
                  tracking_code: str | None = None) -> dict[str, Any]:
    """A `tracker.updated` event as EasyPost sends it."""
    return {"id": event_id or f"evt_test_{next(_events)}_{time.time_ns()}", "object": "Event",
            "description": "tracker.updated", "mode": "test",
            "result": {"id": tracker_id, "object": "Tracker", "status": status,
                       "tracking_code": tracking_code,
                       "est_delivery_date": "2026-03-09T00:00:00Z"}}


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    """X-Hmac-Signature: hmac-sha256-hex=<HMAC-SHA256 of the body, keyed by the secret>,
    written out here rather than borrowed from the code under test."""
    return "hmac-sha256-hex=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_event(client: Any, event: dict[str, Any], *, secret: str = WEBHOOK_SECRET) -> Any:
    body = json.dumps(event).encode()
    return client.post("/webhooks/easypost", data=body, headers={
        "X-Hmac-Signature": sign(body, secret), "Content-Type": "application/json"})
