"""The only module that imports `easypost`: return labels and tracking through the official
client, and the webhook signature check.

EasyPost has no idempotency keys, so nothing here retries a buy on its own: the caller
(`shipping.labels`) commits the shipment id first and retrieves before buying again. Errors
are sorted into transient (try again later) and permanent (staff must act: the message says
what to do), like the Stripe adapter's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import easypost
import requests
from easypost.errors import (
    ApiError,
    EasyPostError,
    GatewayTimeoutError,
    HttpError,
    InternalServerError,
    RateLimitError,
    ServiceUnavailableError,
    SignatureVerificationError,
    TimeoutError,
)

from returns_service.common.money import exponent

# What staff should do about a label EasyPost would not sell, by EasyPost error code.
ADVICE = {
    "ADDRESS.VERIFY.FAILURE": (
        "The carrier could not verify an address. Check the customer's address on the order "
        "(and the WAREHOUSE_* settings), correct it in the store, re-import the order, then "
        "retry the label."),
    "SHIPMENT.POSTAGE.FAILURE": (
        "The carrier refused to sell the label. Check the EasyPost dashboard for the reason, "
        "then retry the label; the customer can still send the parcel with the return slip."),
    "no_rates": (
        "No allowed carrier offers a rate for this parcel. Check `allowed_carriers` and "
        "`allowed_services` in the return policy and the carrier accounts in EasyPost, then "
        "retry; the customer can still send the parcel with the return slip."),
    "PAYMENT.INSUFFICIENT_FUNDS": (
        "The EasyPost balance is too low. Add funds in the EasyPost dashboard, then retry."),
    "authentication": "EasyPost rejected the API key. Fix EASYPOST_API_KEY, then retry.",
}
TRANSIENT = (GatewayTimeoutError, HttpError, InternalServerError, RateLimitError,
             ServiceUnavailableError, TimeoutError)


class TransientShippingError(Exception):
    """EasyPost unreachable or overloaded: try again later."""


class PermanentShippingError(Exception):
    """EasyPost refused for good: staff must act (the message says how)."""

    def __init__(self, code: str | None, message: str):
        self.code = code or "unknown"
        advice = ADVICE.get(self.code)
        self.message = f"{advice} (EasyPost: {message})" if advice else message
        super().__init__(self.message)


class WebhookVerificationError(Exception):
    """The body was not signed with our webhook secret."""


@dataclass(frozen=True)
class Rate:
    id: str
    carrier: str
    service: str
    amount: int  # minor units
    currency: str


@dataclass(frozen=True)
class ProviderShipment:
    id: str
    rates: list[Rate] = field(default_factory=list)
    tracking_code: str | None = None
    label_url: str | None = None
    selected_rate: Rate | None = None
    tracker_id: str | None = None
    est_delivery_at: datetime | None = None
    refund_status: str | None = None
    reference: str | None = None
    is_return: bool = False
    qr_code_url: str | None = None  # the `label_qr_code` form, once asked for

    @property
    def bought(self) -> bool:
        return self.label_url is not None


def minor_units(amount: str | float, currency: str) -> int:
    """EasyPost's "7.58" in USD is 758."""
    return int(Decimal(str(amount)).scaleb(exponent(currency.upper())).to_integral_value())


def _rate(data: dict[str, Any]) -> Rate:
    currency = str(data.get("currency") or "USD").upper()
    return Rate(str(data["id"]), str(data.get("carrier") or ""), str(data.get("service") or ""),
                minor_units(data.get("rate") or "0", currency), currency)


def _date(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def to_shipment(data: dict[str, Any]) -> ProviderShipment:
    label = data.get("postage_label") or {}
    tracker = data.get("tracker") or {}
    selected = data.get("selected_rate")
    return ProviderShipment(
        id=str(data["id"]), rates=[_rate(r) for r in data.get("rates") or []],
        tracking_code=data.get("tracking_code") or None,
        label_url=label.get("label_pdf_url") or label.get("label_url") or None,
        selected_rate=_rate(selected) if selected else None,
        tracker_id=tracker.get("id") or None,
        est_delivery_at=_date(tracker.get("est_delivery_date")),
        refund_status=data.get("refund_status") or None,
        reference=data.get("reference") or None, is_return=bool(data.get("is_return")),
        qr_code_url=next((form.get("form_url") for form in data.get("forms") or []
                          if form.get("form_type") == "label_qr_code"), None))


def newest_first(found: list[ProviderShipment]) -> ProviderShipment | None:
    """Of the return shipments found under one reference, the one to keep: a bought one
    (at most one is ever bought), else the first listed (EasyPost lists newest first)."""
    return next((s for s in found if s.bought), found[0] if found else None)


class EasyPostGateway:
    """Return labels through one EasyPostClient (api_base points tests at a loopback fake)."""

    def __init__(self, api_key: str, api_base: str | None = None, timeout: int = 30):
        kwargs: dict[str, Any] = {"timeout": timeout}
        if api_base:
            kwargs["api_base"] = api_base.rstrip("/")
        self.client = easypost.EasyPostClient(api_key, **kwargs)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> ProviderShipment:
        try:
            answer = fn(*args, **kwargs)
        except TRANSIENT as exc:
            raise TransientShippingError(str(exc)) from exc
        except ApiError as exc:
            if exc.http_status == 401:
                raise PermanentShippingError("authentication", exc.message) from exc
            raise PermanentShippingError(exc.code, exc.message or str(exc)) from exc
        except EasyPostError as exc:
            raise TransientShippingError(str(exc)) from exc
        return to_shipment(answer.to_dict())

    def create_return_shipment(self, *, customer: dict[str, Any], warehouse: dict[str, Any],
                               parcel: dict[str, Any], reference: str) -> ProviderShipment:
        """A return shipment: addressed as the outbound parcel was (`to_address` the customer,
        `from_address` the warehouse); `is_return` tells EasyPost to swap them on the label,
        so the customer is the sender and the warehouse the recipient."""
        return self._call(self.client.shipment.create, to_address=customer,
                          from_address=warehouse, parcel=parcel, reference=reference,
                          is_return=True)

    def find_by_reference(self, reference: str, since: datetime) -> ProviderShipment | None:
        """The return shipment created under `reference` since `since` (a create whose
        answer was lost): listed, newest first, and matched here (EasyPost's references are
        not unique, and listing does not filter by them)."""
        try:
            page = self.client.shipment.all(
                page_size=100, start_datetime=since.astimezone(UTC).isoformat())
            found = []
            for _ in range(20):  # at most 2,000 shipments created in the window
                found += [to_shipment(s.to_dict()) for s in page.get("shipments") or []]
                if not page.get("has_more"):
                    break
                page = self.client.shipment.get_next_page(page, page_size=100)
        except TRANSIENT as exc:
            raise TransientShippingError(str(exc)) from exc
        except EasyPostError as exc:
            raise TransientShippingError(str(exc)) from exc
        return newest_first([s for s in found if s.reference == reference and s.is_return])

    def qr_code(self, shipment_id: str) -> ProviderShipment:
        """Ask for the label's QR code (EasyPost form `label_qr_code`, after the buy)."""
        return self._call(self.client.shipment.generate_form, shipment_id, "label_qr_code")

    def tracker(self, tracker_id: str) -> dict[str, Any]:
        """The tracker as a webhook would carry it (its `result`)."""
        try:
            return dict(self.client.tracker.retrieve(tracker_id).to_dict())
        except TRANSIENT as exc:
            raise TransientShippingError(str(exc)) from exc
        except ApiError as exc:
            raise PermanentShippingError(exc.code, exc.message or str(exc)) from exc
        except EasyPostError as exc:
            raise TransientShippingError(str(exc)) from exc

    def retrieve(self, shipment_id: str) -> ProviderShipment:
        return self._call(self.client.shipment.retrieve, shipment_id)

    def buy(self, shipment_id: str, rate_id: str) -> ProviderShipment:
        return self._call(self.client.shipment.buy, shipment_id, rate={"id": rate_id})

    def refund(self, shipment_id: str) -> ProviderShipment:
        """Ask for an unused label's money back (EasyPost: "void")."""
        return self._call(self.client.shipment.refund, shipment_id)

    def download_label(self, url: str) -> tuple[bytes, str]:  # the QR code's file too
        """The label file EasyPost hosts: its bytes and content type."""
        try:
            answer = requests.get(url, timeout=30)
            answer.raise_for_status()
        except requests.RequestException as exc:
            raise TransientShippingError(f"could not download the label: {exc}") from exc
        content_type = answer.headers.get("Content-Type", "application/pdf").split(";")[0]
        return answer.content, content_type


def cheapest(rates: list[Rate], carriers: frozenset[str],
             services: frozenset[str]) -> Rate | None:
    """The cheapest rate among the allowed carriers and services (empty: any)."""
    allowed = [r for r in rates
               if (not carriers or r.carrier.lower() in carriers)
               and (not services or r.service.lower() in services)]
    return min(allowed, key=lambda r: (r.amount, r.carrier, r.service), default=None)


def verify_webhook(body: bytes, headers: Any, secret: str) -> dict[str, Any]:
    """The event, when `X-Hmac-Signature` is the body's HMAC with our secret (checked by the
    library's own validator)."""
    signature = headers.get("X-Hmac-Signature")
    try:
        event = easypost.util.validate_webhook(body, {"X-Hmac-Signature": signature}, secret)
    except SignatureVerificationError as exc:
        raise WebhookVerificationError(str(exc)) from exc
    except ValueError as exc:
        raise WebhookVerificationError("the body is not JSON") from exc
    if not isinstance(event, dict) or not event.get("id"):
        raise WebhookVerificationError("the body is not an EasyPost event")
    return event
