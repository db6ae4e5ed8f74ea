"""The only module that imports `stripe`: refunds through the official client, webhook checks.

Errors are sorted into two kinds the rest of the service understands: transient (try again
later with the same idempotency key) and permanent (a person has to look at it, so the
message says what to do).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
import stripe

from returns_service.common import strict_json

# The Stripe API version every request is sent with. Without it the client sends the version
# its own release was built for (stripe 15.x: 2026-03-25.dahlia, 16.x: 2026-10-28.endive), so
# the shapes Stripe answers with would depend on which release pip resolved. Change it on
# purpose, with docs/stripe.md. Webhook events follow the endpoint's own version, set in the
# Stripe dashboard, so the event parsing keeps accepting older shapes (to_provider_refund).
STRIPE_API_VERSION = "2026-03-25.dahlia"

# Currencies whose Stripe amounts are not ISO 4217 minor units: Stripe takes ISK (ISO: no
# decimals) as if it had two, in whole krónur (500 is 5 kr). Amounts are converted here,
# both ways, so the rest of the service only ever sees ISO minor units.
STRIPE_FACTOR = {"ISK": 100}

# Stripe error codes that mean "try again later", whatever the HTTP status says.
TRANSIENT_CODES = {"lock_timeout", "rate_limit"}

# What staff should do about a permanent error, by Stripe error code.
ADVICE = {
    "charge_already_refunded": (
        "Stripe says this payment has already been refunded in full. Check the payment in "
        "the Stripe dashboard; if the customer got their money, record the refund as made "
        "outside Stripe."),
    "amount_too_large": (
        "The refund is larger than what is left to refund on the payment (earlier refunds "
        "used part of it). Check the payment in the Stripe dashboard, then record a manual "
        "refund for what was paid back, or retry once the amount is corrected."),
    "charge_disputed": (
        "The customer has disputed this payment with their bank, so Stripe will not refund "
        "it. Handle the dispute in the Stripe dashboard instead."),
    "no_payment_intent": (
        "The order has no Stripe payment to refund. Refund the customer another way and "
        "record the refund as made outside Stripe."),
    "resource_missing": (
        "Stripe does not know this payment. Check the order's payment intent and the Stripe "
        "account (test or live mode), then retry or record a manual refund."),
    "authentication": (
        "Stripe rejected the API key. Fix STRIPE_API_KEY, then retry the refund."),
}


@dataclass(frozen=True)
class ProviderRefund:
    id: str
    status: str  # pending, requires_action, succeeded, failed, canceled
    amount: int
    currency: str
    payment_intent: str | None
    failure_reason: str | None
    metadata: dict[str, str] = field(default_factory=dict)


class TransientPaymentError(Exception):
    """Network trouble, 5xx, 429, lock timeouts: safe to retry with the same key."""


class PermanentPaymentError(Exception):
    """Stripe refused for good (already refunded, amount too large…)."""

    def __init__(self, code: str | None, message: str):
        self.code = code or "unknown"
        advice = ADVICE.get(self.code)
        self.message = f"{advice} (Stripe: {message})" if advice else message
        super().__init__(self.message)


class WebhookVerificationError(Exception):
    """The webhook's signature, timestamp or body is not acceptable."""


def plain(obj: Any) -> Any:
    """A Stripe object (or anything nested in it) as plain dicts and lists."""
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return obj


def to_stripe_amount(amount: int, currency: str) -> int:
    return amount * STRIPE_FACTOR.get(currency.upper(), 1)


def from_stripe_amount(amount: int, currency: str) -> int:
    return amount // STRIPE_FACTOR.get(currency.upper(), 1)


def to_provider_refund(obj: Any) -> ProviderRefund:
    """Map a Stripe Refund (client object or webhook dict) to our shape, in ISO minor units."""
    data = plain(obj)
    pi = data.get("payment_intent")
    currency = (data.get("currency") or "").upper()
    return ProviderRefund(
        id=data["id"], status=data.get("status") or "pending",
        amount=from_stripe_amount(int(data.get("amount") or 0), currency), currency=currency,
        payment_intent=pi if isinstance(pi, str) or pi is None else pi.get("id"),
        failure_reason=data.get("failure_reason"),
        metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()})


def _session_for(api_base: str) -> requests.Session:
    """A requests session for calls to `api_base`, with the outbound proxy the environment
    names for it (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) looked up once, here. Left to itself,
    requests reads every proxy variable of the environment again on each call: about 0.9 M
    instructions per refund (`bench.instructions`). The CA bundle is unaffected: the Stripe
    client passes its own to every call."""
    session = requests.Session()
    session.trust_env = False
    session.proxies.update(requests.utils.get_environ_proxies(api_base))
    return session


class StripeRefundGateway:
    """Refunds at Stripe (or a server speaking its API, via `api_base`)."""

    def __init__(self, api_key: str, api_base: str | None = None, *, timeout: int = 30,
                 max_network_retries: int = 2):
        base = {"api": api_base} if api_base else None
        self._client = stripe.StripeClient(
            api_key, base_addresses=base, max_network_retries=max_network_retries,
            stripe_version=STRIPE_API_VERSION,
            http_client=stripe.RequestsClient(
                timeout=timeout, session=_session_for(api_base or stripe.DEFAULT_API_BASE)))

    def create_refund(self, *, payment_intent: str, amount: int, currency: str,
                      idempotency_key: str, metadata: dict[str, str]) -> ProviderRefund:
        """Refund `amount` ISO minor units of `currency` (the payment's own currency)."""
        return to_provider_refund(self._call(lambda: self._client.v1.refunds.create(
            params={"payment_intent": payment_intent,
                    "amount": to_stripe_amount(amount, currency), "metadata": metadata},
            options={"idempotency_key": idempotency_key})))

    def retrieve_refund(self, refund_id: str) -> ProviderRefund:
        return to_provider_refund(self._call(lambda: self._client.v1.refunds.retrieve(refund_id)))

    def list_refunds(self, payment_intent: str | None = None, *, charge: str | None = None,
                     starting_after: str | None = None) -> list[ProviderRefund]:
        """Every refund on a payment intent (or on a charge), most recent first, page after
        page; with `starting_after`, only those listed after that refund."""
        if not (payment_intent or charge):
            raise ValueError("list_refunds needs a payment intent or a charge")
        params: dict[str, Any] = {"limit": 100}
        for name, value in (("payment_intent", payment_intent), ("charge", charge),
                            ("starting_after", starting_after)):
            if value:
                params[name] = value
        # The pages after the first are fetched while iterating: inside _call, so their
        # errors are sorted like the first one's.
        return self._call(lambda: [to_provider_refund(r) for r in self._client.v1.refunds
                                   .list(params=params).auto_paging_iter()])

    def find_refund(self, *, payment_intent: str, refund_row_id: int) -> ProviderRefund | None:
        """Our refund on Stripe's side, by the metadata we sent (after a crash mid-call)."""
        return next((r for r in self.list_refunds(payment_intent)
                     if r.metadata.get("refund_id") == str(refund_row_id)), None)

    @staticmethod
    def _call(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise TransientPaymentError(f"{type(exc).__name__}: {exc}") from exc
        except stripe.AuthenticationError as exc:
            raise PermanentPaymentError("authentication", str(exc)) from exc
        except stripe.StripeError as exc:
            status = getattr(exc, "http_status", None) or 0
            code = getattr(exc, "code", None)
            if status >= 500 or status in (409, 429) or code in TRANSIENT_CODES:
                raise TransientPaymentError(f"HTTP {status} {code or ''}: {exc}") from exc
            message = getattr(exc, "user_message", None) or str(exc)
            raise PermanentPaymentError(code, message) from exc


# Metadata key on every Checkout Session this service creates (an exchange's price
# difference, say): such sessions are the service's own, never orders to import.
SERVICE_METADATA_KEY = "returns_service"


class StripeCheckoutGateway(StripeRefundGateway):
    """Checkout Sessions at Stripe (or a server speaking their API, via `api_base`): read a
    session and its line items to import an order, create one for the service's own use."""

    def retrieve_session(self, session_id: str) -> dict[str, Any]:
        return plain(self._call(lambda: self._client.v1.checkout.sessions.retrieve(
            session_id)))

    def list_line_items(self, session_id: str) -> list[dict[str, Any]]:
        """Every line item of the session, page after page, each with its price's product
        expanded (for the SKU in its metadata)."""
        return self._call(lambda: [plain(item) for item in self._client.v1.checkout.sessions
                                   .line_items.list(session_id, params={
                                       "limit": 100, "expand": ["data.price.product"]})
                                   .auto_paging_iter()])

    def create_session(self, params: dict[str, Any], *, idempotency_key: str,
                       metadata: dict[str, str]) -> dict[str, Any]:
        """Create a session marked as the service's own (SERVICE_METADATA_KEY)."""
        marked = {**metadata, SERVICE_METADATA_KEY: "1"}
        return plain(self._call(lambda: self._client.v1.checkout.sessions.create(
            params={**params, "metadata": marked},
            options={"idempotency_key": idempotency_key})))

    def create_customer(self, *, email: str, idempotency_key: str,
                        metadata: dict[str, str]) -> str:
        """A Stripe customer to save a card on; its id."""
        return str(self._call(lambda: self._client.v1.customers.create(
            params={"email": email, "metadata": metadata},
            options={"idempotency_key": idempotency_key}))["id"])

    def retrieve_setup_intent(self, setup_intent_id: str) -> dict[str, Any]:
        return plain(self._call(lambda: self._client.v1.setup_intents.retrieve(
            setup_intent_id)))

    def find_payment_intent(self, *, customer: str, key: str,
                            value: str) -> dict[str, Any] | None:
        """The customer's payment intent whose metadata `key` is `value` (after a crash)."""
        intents = self._call(lambda: [plain(p) for p in self._client.v1.payment_intents.list(
            params={"customer": customer, "limit": 100}).auto_paging_iter()])
        return next((p for p in intents if (p.get("metadata") or {}).get(key) == value), None)

    def charge_off_session(self, *, amount: int, currency: str, customer: str,
                           payment_method: str, idempotency_key: str,
                           metadata: dict[str, str]) -> dict[str, Any]:
        """Charge a saved card while the customer is away (`amount` in ISO minor units).
        A declined card raises PermanentPaymentError (code `card_declined`, …)."""
        return plain(self._call(lambda: self._client.v1.payment_intents.create(
            params={"amount": to_stripe_amount(amount, currency), "currency": currency.lower(),
                    "customer": customer, "payment_method": payment_method,
                    "off_session": True, "confirm": True, "metadata": metadata},
            options={"idempotency_key": idempotency_key})))


# Bounds of what an event may carry; the columns it is stored in, and what Stripe can send.
MAX_EVENT_ID = 255
MAX_EVENT_TYPE = 100
MAX_STRIPE_AMOUNT = 99_999_999_999_999  # far above any payment, far below 64 bits
MAX_OBJECT_ID = 255


class UnusableWebhookEvent(Exception):
    """A correctly signed event this service cannot use (out-of-bounds JSON, fields too long
    or of the wrong kind). Stripe would retry a refusal for days, so it is recorded as
    rejected and acknowledged. `event_id` and `event_type` are what can be stored of it."""

    def __init__(self, reason: str, event_id: str, event_type: str):
        super().__init__(reason)
        self.reason, self.event_id, self.event_type = reason, event_id, event_type


def verify_webhook(payload: bytes, signature: str | None, secret: str,
                   tolerance: int = 300) -> dict[str, Any]:
    """Check Stripe-Signature over the raw body, then parse it; WebhookVerificationError if
    the signature or the body is not Stripe's event, UnusableWebhookEvent if it is signed
    but cannot be used.

    Nothing in the body is trusted (or even parsed) before the signature checks out.
    """
    if not signature:
        raise WebhookVerificationError("The Stripe-Signature header is missing.")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:  # Stripe only sends UTF-8: this is not from Stripe
        raise WebhookVerificationError(f"The body is not UTF-8 (byte {exc.start}).") from None
    try:
        stripe.WebhookSignature.verify_header(text, signature, secret, tolerance=tolerance)
    except stripe.SignatureVerificationError as exc:
        raise WebhookVerificationError(str(exc)) from exc
    try:
        event = strict_json.loads(text, allow_nul=False)
    except strict_json.JSONRejected as exc:
        if exc.syntax:
            raise WebhookVerificationError(f"The body is not valid JSON: {exc}") from exc
        raise UnusableWebhookEvent(str(exc), *_stored_names(payload)) from exc
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) \
            or not isinstance(event.get("type"), str) \
            or not isinstance((event.get("data") or {}).get("object"), dict):
        raise WebhookVerificationError("The body is not a Stripe event (id, type, data.object).")
    if not 0 < len(event["id"]) <= MAX_EVENT_ID or not 0 < len(event["type"]) <= MAX_EVENT_TYPE:
        raise UnusableWebhookEvent(
            f"The event's id or type is empty or too long (id at most {MAX_EVENT_ID}, type "
            f"at most {MAX_EVENT_TYPE} characters).", *_stored_names(payload))
    return event


def _stored_names(payload: bytes) -> tuple[str, str]:
    """An id and a type to store an unusable event under: its own when they fit, else one
    derived from the body, so a redelivery of the same body is still a duplicate."""
    try:
        envelope = json.loads(payload)
    except (ValueError, RecursionError):
        envelope = None
    event_id = event_type = None
    if isinstance(envelope, dict):
        event_id, event_type = envelope.get("id"), envelope.get("type")

    def usable(value: Any, longest: int) -> bool:
        return isinstance(value, str) and 0 < len(value) <= longest and value.isprintable()

    if not usable(event_id, MAX_EVENT_ID):
        event_id = "unusable-" + hashlib.sha256(payload).hexdigest()
    if not usable(event_type, MAX_EVENT_TYPE):
        event_type = "unusable"
    return str(event_id), str(event_type)


def _amount_problem(obj: dict[str, Any], where: str) -> str | None:
    amount = obj.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) \
            or not 0 <= amount <= MAX_STRIPE_AMOUNT:
        return f"{where}.amount must be a whole number from 0 to {MAX_STRIPE_AMOUNT}."
    currency = obj.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        return f"{where}.currency must be a three-letter currency code."
    return None


def _id_problem(value: Any, where: str, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_OBJECT_ID:
        return f"{where} must be an id of 1 to {MAX_OBJECT_ID} characters."
    return None


def _text_problem(value: Any, where: str, longest: int) -> str | None:
    if value is None or (isinstance(value, str) and len(value) <= longest):
        return None
    return f"{where} must be a text of at most {longest} characters."


def _refund_problem(obj: Any, where: str) -> str | None:
    if not isinstance(obj, dict):
        return f"{where} must be an object."
    pi = obj.get("payment_intent")
    if isinstance(pi, dict):
        pi = pi.get("id")
    metadata = obj.get("metadata")
    status, reason = obj.get("status"), obj.get("failure_reason")
    return (_id_problem(obj.get("id"), f"{where}.id")
            or _amount_problem(obj, where)
            or _id_problem(pi, f"{where}.payment_intent", required=False)
            or _text_problem(status, f"{where}.status", 32)
            or _text_problem(reason, f"{where}.failure_reason", 100)
            or (None if metadata is None or isinstance(metadata, dict)
                else f"{where}.metadata must be an object."))


def event_problem(event: dict[str, Any]) -> str | None:
    """What makes a verified event of a type the service handles unusable, or None. Checked
    before it is stored, so a job never fails on it again and again."""
    obj, kind = event["data"]["object"], event["type"]
    if kind in ("refund.created", "refund.updated", "refund.failed", "charge.refund.updated"):
        return _refund_problem(obj, "data.object")
    if kind == "charge.refunded":
        listed = (obj.get("refunds") or {}) if isinstance(obj.get("refunds"), dict | None) \
            else None
        if listed is None:
            return "data.object.refunds must be a list object."
        items = listed.get("data")
        if items is not None and not isinstance(items, list):
            return "data.object.refunds.data must be an array."
        return (_id_problem(obj.get("id"), "data.object.id")
                or _id_problem(obj.get("payment_intent"), "data.object.payment_intent",
                               required=False)
                or next((p for i, item in enumerate(items or [])
                         if (p := _refund_problem(item, f"data.object.refunds.data.{i}"))),
                        None))
    if kind == "charge.dispute.created":
        reason = obj.get("reason")
        return (_id_problem(obj.get("id"), "data.object.id")
                or _amount_problem(obj, "data.object")
                or _id_problem(obj.get("payment_intent"), "data.object.payment_intent",
                               required=False)
                or _text_problem(reason, "data.object.reason", 100))
    return None
