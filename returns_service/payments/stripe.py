"""The only module that imports `stripe`: refunds through the official client.

Errors are sorted into two kinds the rest of the service understands: transient (try again
later with the same idempotency key) and permanent (a person has to look at it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stripe

TRANSIENT_CODES = {"lock_timeout", "rate_limit"}


@dataclass(frozen=True)
class ProviderRefund:
    id: str
    status: str  # pending, requires_action, succeeded, failed, canceled
    amount: int
    currency: str
    payment_intent: str | None
    failure_reason: str | None
    metadata: dict[str, str]


class TransientPaymentError(Exception):
    """Network trouble, 5xx, 429, lock timeouts: safe to retry with the same key."""


class PermanentPaymentError(Exception):
    """Stripe refused for good (already refunded, amount too large…)."""

    def __init__(self, code: str | None, message: str):
        super().__init__(message)
        self.code = code or "unknown"
        self.message = message


def to_provider_refund(obj: Any) -> ProviderRefund:
    """Map a Stripe Refund (object or webhook dict) to our shape."""
    get = obj.get if isinstance(obj, dict) else lambda k, d=None: getattr(obj, k, d)
    pi = get("payment_intent")
    return ProviderRefund(
        id=get("id"), status=get("status") or "pending", amount=int(get("amount") or 0),
        currency=(get("currency") or "").upper(),
        payment_intent=pi if isinstance(pi, str) or pi is None else pi.get("id"),
        failure_reason=get("failure_reason"),
        metadata=_plain(get("metadata")))


def _plain(value: Any) -> dict[str, str]:
    """Stripe objects are not mappings since stripe 15: convert with to_dict()."""
    if value is None:
        return {}
    return dict(value.to_dict() if hasattr(value, "to_dict") else value)


class StripeRefundGateway:
    def __init__(self, api_key: str, api_base: str | None = None, *, timeout: int = 30):
        base = {"api": api_base} if api_base else None
        self._client = stripe.StripeClient(
            api_key, base_addresses=base or {}, max_network_retries=2,
            http_client=stripe.new_default_http_client(timeout=timeout))

    def create_refund(self, *, payment_intent: str, amount: int, idempotency_key: str,
                      metadata: dict[str, str]) -> ProviderRefund:
        return self._call(lambda: self._client.v1.refunds.create(
            params={"payment_intent": payment_intent, "amount": amount, "metadata": metadata},
            options={"idempotency_key": idempotency_key}))

    def retrieve_refund(self, refund_id: str) -> ProviderRefund:
        return self._call(lambda: self._client.v1.refunds.retrieve(refund_id))

    def find_refund(self, *, payment_intent: str, refund_row_id: int) -> ProviderRefund | None:
        """Our refund on Stripe's side, by the metadata we sent (after a crash mid-call)."""
        def lookup() -> Any:
            page = self._client.v1.refunds.list(params={"payment_intent": payment_intent,
                                                        "limit": 100})
            return [r for r in page.data
                    if (r.metadata or {}).get("refund_id") == str(refund_row_id)]

        found = self._call_raw(lookup)
        return to_provider_refund(found[0]) if found else None

    def _call(self, fn: Any) -> ProviderRefund:
        return to_provider_refund(self._call_raw(fn))

    @staticmethod
    def _call_raw(fn: Any) -> Any:
        try:
            return fn()
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise TransientPaymentError(str(exc)) from exc
        except stripe.StripeError as exc:
            status = getattr(exc, "http_status", None) or 0
            code = getattr(exc, "code", None)
            if status >= 500 or status in (409, 429) or code in TRANSIENT_CODES:
                raise TransientPaymentError(str(exc)) from exc
            message = getattr(exc, "user_message", None) or str(exc)
            raise PermanentPaymentError(code, message) from exc


def verify_webhook(payload: bytes, signature: str, secret: str,
                   tolerance: int = 300) -> dict[str, Any]:
    """Check Stripe-Signature over the raw body; raise ValueError on any mismatch."""
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance=tolerance)
    except stripe.SignatureVerificationError as exc:
        raise ValueError(f"bad signature: {exc}") from exc
    return event.to_dict() if hasattr(event, "to_dict") else dict(event)
