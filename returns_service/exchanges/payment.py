"""Paying a dearer variant's difference through a Stripe Checkout Session, hosted by Stripe.

The session is created after the exchange is committed (never inside a transaction), once
per exchange: Stripe's idempotency key is the exchange's, and the session's id and URL are
kept on the row, so asking again answers the same page. Its events arrive at the Stripe
webhook endpoint: `checkout.session.completed` (paid) moves the exchange from
`awaiting_payment` back to `requested`; `checkout.session.expired` expires it and releases
its stock. Each event is recorded once (the stripe_events row), whatever the order."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from returns_service.common.clock import utcnow
from returns_service.common.errors import DomainError
from returns_service.common.money import format_money
from returns_service.db import db
from returns_service.db.insert_once import insert_once
from returns_service.exchanges import instant, services
from returns_service.exchanges.difference import refund_paid_difference
from returns_service.exchanges.models import Exchange
from returns_service.payments.models import StripeEvent
from returns_service.payments.stripe import (
    SERVICE_METADATA_KEY,
    PermanentPaymentError,
    StripeCheckoutGateway,
    TransientPaymentError,
    to_stripe_amount,
)
from returns_service.returns.models import Return
from returns_service.returns.review import flag_for_review
from returns_service.returns.writes import save
from workflows import exchanges as wf
from workflows.returns import Actor

EVENTS = ("checkout.session.completed", "checkout.session.expired")
METADATA_KEY = "exchange_id"  # in the session's metadata, next to the RMA


class PaymentUnavailable(DomainError):
    status, type, title = 503, "payment-unavailable", "Payment is not available right now"


def online_payment_available() -> bool:
    return bool(current_app.config.get("STRIPE_API_KEY"))


def checkout_url(exchange_id: int, *, rma: str, success_url: str, cancel_url: str) -> str:
    """The Stripe page where the customer pays the exchange's difference; created once.
    Commits what it records (the caller's change is committed before)."""
    exchange = db.session.get(Exchange, exchange_id)
    if exchange is None or exchange.status != wf.Status.AWAITING_PAYMENT:
        raise PaymentUnavailable("There is nothing to pay for this exchange.")
    if exchange.checkout_url:
        return exchange.checkout_url
    cfg = current_app.config
    if not cfg.get("STRIPE_API_KEY"):
        raise PaymentUnavailable("Online payment is not configured.")
    gateway = StripeCheckoutGateway(cfg["STRIPE_API_KEY"], cfg.get("STRIPE_API_BASE"))
    session = gateway.create_session({
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": exchange.currency.lower(),
            "unit_amount": to_stripe_amount(exchange.difference, exchange.currency),
            "product_data": {"name": f"Exchange {exchange.from_sku} for {exchange.to_sku}",
                             "metadata": {"sku": exchange.to_sku}}}}],
        "success_url": success_url, "cancel_url": cancel_url,
    }, idempotency_key=f"exchange-{exchange.id}-difference",
        metadata={"rma": rma, METADATA_KEY: str(exchange.id)})
    exchange.checkout_session_id, exchange.checkout_url = session["id"], session["url"]
    db.session.commit()
    return session["url"]


def handles(event: dict[str, Any]) -> bool:
    """A Checkout event about a session this service created for an exchange."""
    metadata = (event.get("data", {}).get("object") or {}).get("metadata") or {}
    return (event.get("type") in EVENTS and SERVICE_METADATA_KEY in metadata
            and METADATA_KEY in metadata)


def receive_event(event: dict[str, Any]) -> str:
    """Record the event once and apply it; the caller commits. "duplicate" for a
    redelivery, else what it did: applied, ignored (the exchange moved on), unmatched."""
    row_id = insert_once(StripeEvent, {"event_id": event["id"], "type": event["type"],
                                       "payload": event}, unique="event_id")
    if row_id is None:
        return "duplicate"
    result, detail = _apply(event)
    row = db.session.get(StripeEvent, row_id)
    if row is not None:
        row.result, row.detail, row.processed_at = result, detail, utcnow()
    return result


def _apply(event: dict[str, Any]) -> tuple[str, str]:
    session = event["data"]["object"]
    try:
        exchange_id = int(session["metadata"][METADATA_KEY])
    except (TypeError, ValueError):
        return "unmatched", "The session's exchange_id is not a number."
    exchange = db.session.scalar(select(Exchange).where(Exchange.id == exchange_id)
                                 .with_for_update())
    if exchange is not None and session.get("mode") == "setup":  # a card for an instant one
        return instant.apply_setup_event(exchange, event)
    if exchange is None or exchange.checkout_session_id not in (None, session.get("id")):
        return "unmatched", "No exchange has this Checkout Session."
    if exchange.status != wf.Status.AWAITING_PAYMENT:
        if (event["type"] == "checkout.session.completed"
                and session.get("payment_status") == "paid"
                and exchange.status in (wf.Status.EXPIRED, wf.Status.CANCELLED)):
            return _paid_too_late(exchange, session)
        return "ignored", f"The exchange is {exchange.status}."
    if event["type"] == "checkout.session.completed":
        if session.get("payment_status") != "paid":
            return "ignored", "Completed but not paid yet."
        exchange.payment_intent = session.get("payment_intent")
        wf.fire(exchange, "pay")
        db.session.flush()
        return "applied", "The difference was paid."
    services.end_exchange(exchange, "expire")
    return "applied", "The payment page expired unpaid: the exchange expired."


def poll_stale(now: datetime) -> int:
    """Scheduler: exchanges waiting for their difference since before
    EXCHANGE_PAYMENT_STALE_HOURS, whose webhook never came. Their session is read at Stripe
    and applied by the webhook's own rules (paid: the exchange goes on; expired: it expires
    and its stock is released); one whose payment page was never opened expires. How many
    changed."""
    cutoff = now - timedelta(hours=int(current_app.config["EXCHANGE_PAYMENT_STALE_HOURS"]))
    stale = list(db.session.scalars(select(Exchange.id).where(
        Exchange.status == wf.Status.AWAITING_PAYMENT, Exchange.updated_at < cutoff)
        .order_by(Exchange.id)))
    changed = 0
    for exchange_id in stale:
        exchange = db.session.get(Exchange, exchange_id)
        if exchange is None:
            continue
        try:
            if exchange.checkout_session_id is None:
                locked = services.end_exchange(exchange, "expire")
            else:
                session = _gateway().retrieve_session(exchange.checkout_session_id)
                kind = {"complete": "checkout.session.completed",
                        "expired": "checkout.session.expired"}.get(session.get("status"))
                locked = kind is not None and _apply(
                    {"type": kind, "data": {"object": session}})[0] == "applied"
        except (TransientPaymentError, PermanentPaymentError):
            db.session.rollback()  # Stripe unreachable: the next pass asks again
            continue
        db.session.commit()
        changed += bool(locked)
    return changed


def _gateway() -> StripeCheckoutGateway:
    cfg = current_app.config
    if not cfg.get("STRIPE_API_KEY"):
        raise PermanentPaymentError("configuration", "Online payment is not configured.")
    return StripeCheckoutGateway(cfg["STRIPE_API_KEY"], cfg.get("STRIPE_API_BASE"))


def _paid_too_late(exchange: Exchange, session: dict[str, Any]) -> tuple[str, str]:
    """The customer paid for an exchange that had already ended: the payment is refunded,
    once (exchanges.difference). A second payment for the same exchange (another session)
    is left to a person: the return is flagged."""
    intent = session.get("payment_intent")
    if intent and exchange.payment_intent in (None, intent):
        exchange.payment_intent = str(intent)
        db.session.flush()
        refund_paid_difference(exchange)
        return "refunded", "Paid after the exchange ended: the payment is refunded."
    ret = db.session.get(Return, exchange.return_id)
    if ret is not None:
        flag_for_review(ret, f"The customer paid "
                        f"{format_money(exchange.difference, exchange.currency)} (Checkout "
                        f"Session {session.get('id')}, payment {intent}) for the exchange "
                        f"{exchange.from_sku} → {exchange.to_sku} after it was "
                        f"{exchange.status}. Refund that payment in the Stripe dashboard.",
                        Actor.system("stripe"))
        save(ret)
    return "flagged", "Paid after the exchange ended: flagged for staff."
