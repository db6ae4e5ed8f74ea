"""The only module that imports `stripe`: refunds through the official client, webhook checks.

Errors are sorted into two kinds the rest of the service understands: transient (try again
later with the same idempotency key) and permanent (a person has to look at it, so the
message says what to do).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import stripe

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


class StripeRefundGateway:
    """Refunds at Stripe (or a server speaking its API, via `api_base`)."""

    def __init__(self, api_key: str, api_base: str | None = None, *, timeout: int = 30,
                 max_network_retries: int = 2):
        base = {"api": api_base} if api_base else None
        self._client = stripe.StripeClient(
            api_key, base_addresses=base, max_network_retries=max_network_retries,
            stripe_version=STRIPE_API_VERSION,
            http_client=stripe.new_default_http_client(timeout=timeout))

    def create_refund(self, *, payment_intent: str, amount: int, currency: str,
                      idempotency_key: str, metadata: dict[str, str]) -> ProviderRefund:
        """Refund `amount` ISO minor units of `currency` (the payment's own currency)."""
        return to_provider_refund(self._call(lambda: self._client.v1.refunds.create(
            params={"payment_intent": payment_intent,
                    "amount": to_stripe_amount(amount, currency), "metadata": metadata},
            options={"idempotency_key": idempotency_key})))

    def retrieve_refund(self, refund_id: str) -> ProviderRefund:
        return to_provider_refund(self._call(lambda: self._client.v1.refunds.retrieve(refund_id)))

    def list_refunds(self, payment_intent: str) -> list[ProviderRefund]:
        """Every refund on a payment intent (most recent first, up to 100)."""
        page = self._call(lambda: self._client.v1.refunds.list(
            params={"payment_intent": payment_intent, "limit": 100}))
        return [to_provider_refund(r) for r in page.data]

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


def verify_webhook(payload: bytes, signature: str | None, secret: str,
                   tolerance: int = 300) -> dict[str, Any]:
    """Check Stripe-Signature over the raw body, then parse it; WebhookVerificationError if not.

    Nothing in the body is trusted (or even parsed) before the signature checks out.
    """
    if not signature:
        raise WebhookVerificationError("The Stripe-Signature header is missing.")
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance=tolerance)
    except stripe.SignatureVerificationError as exc:
        raise WebhookVerificationError(str(exc)) from exc
    try:
        event = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookVerificationError(f"The body is not valid JSON: {exc}") from exc
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) \
            or not isinstance(event.get("type"), str) \
            or not isinstance((event.get("data") or {}).get("object"), dict):
        raise WebhookVerificationError("The body is not a Stripe event (id, type, data.object).")
    return event

