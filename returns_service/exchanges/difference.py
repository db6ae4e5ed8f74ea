"""Giving back a paid difference: an exchange whose dearer variant was paid for, then ended
(the return rejected or cancelled, the line not received), refunds that payment, once.

The refund is a refunds row of its own on the difference's payment (not the order's), with
the exchange's idempotency key: a unique column, so ending the exchange twice, or two
callers at once, write one row and Stripe is asked once (refunds' job, after commit). It
counts towards no return: it gives back the difference, not the goods."""

from __future__ import annotations

from returns_service.db import db
from returns_service.exchanges.models import Exchange
from returns_service.outbox.service import emit
from returns_service.refunds.models import Refund
from returns_service.refunds.services import insert_refund


def refund_key(exchange: Exchange) -> str:
    return f"exchange-{exchange.id}-difference-refund"


def refund_paid_difference(exchange: Exchange) -> Refund | None:
    """Queue the refund of what the customer paid for `exchange`, unless nothing was paid
    or it is already queued."""
    if not exchange.payment_intent or exchange.difference <= 0:
        return None
    key = refund_key(exchange)
    if db.session.query(Refund.id).filter(Refund.idempotency_key == key).first() is not None:
        return None
    refund = insert_refund(None, return_id=None, attempt=1, amount=exchange.difference,
                           currency=exchange.currency, status="pending", origin="service",
                           provider="stripe", payment_intent=exchange.payment_intent,
                           idempotency_key=key)
    emit("refund.execute", {"refund_id": refund.id}, dedupe_key=f"refund.execute:{refund.id}")
    return refund
