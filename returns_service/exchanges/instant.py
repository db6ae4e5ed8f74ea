"""Instant exchange: the new item is sent before the original arrives, its value secured by a
saved card.

1. The exchange is made `instant` when the policy says so and Stripe is configured. The
   customer saves a card on a Stripe Checkout Session in `setup` mode (hosted by Stripe),
   created once per exchange (idempotency key; a new one only after the last expired).
2. Once the card is saved (`checkout.session.completed` with the session's SetupIntent) and
   the return is approved, whichever comes second, the exchange order is created, once
   (`services.order_exchange` locks the row; the order is unique per exchange), and the
   charge falls due `instant_days` later.
3. When the original is received, it is noted, and the saved card is never used.
4. Otherwise, once the new item has shipped and the day has come, the scheduler queues one
   job per exchange (outbox dedupe key) that charges the original's value off session
   (`charge_missing_item`): Stripe's idempotency key is the exchange's, and a job run again
   after a crash first looks for the payment intent it made (by metadata), so the card is
   charged once. A declined charge flags the return for staff.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from returns_service.common.clock import utcnow
from returns_service.common.errors import DomainError
from returns_service.common.money import format_money
from returns_service.db import db
from returns_service.exchanges import services
from returns_service.exchanges.models import Exchange
from returns_service.exchanges.signals import exchange_ordered
from returns_service.notifications.services import customer_subject, queue_email
from returns_service.outbox.registry import RetryLater
from returns_service.outbox.service import emit
from returns_service.payments.stripe import (
    PermanentPaymentError,
    StripeCheckoutGateway,
    TransientPaymentError,
)
from returns_service.returns.models import Return
from returns_service.returns.review import flag_for_review
from returns_service.returns.services import current_policy
from returns_service.returns.writes import save
from workflows import exchanges as wf
from workflows.returns import Actor

CHARGE_TOPIC = "exchange.charge_missing_item"
CHARGE_METADATA_KEY = "exchange_charge"  # on the payment intent: the exchange's id
# The return is approved and its parcel not received yet: an instant exchange may be ordered.
APPROVED = ("approved",)


class CardUnavailable(DomainError):
    status, type, title = 503, "card-unavailable", "Saving a card is not available right now"


def _gateway() -> StripeCheckoutGateway:
    cfg = current_app.config
    if not cfg.get("STRIPE_API_KEY"):
        raise CardUnavailable("Online payment is not configured.")
    return StripeCheckoutGateway(cfg["STRIPE_API_KEY"], cfg.get("STRIPE_API_BASE"))


def wants_card(exchange: Exchange) -> bool:
    return (exchange.instant and exchange.payment_method is None
            and exchange.status == wf.Status.REQUESTED)


def card_url(exchange_id: int, *, rma: str, email: str, success_url: str,
             cancel_url: str) -> str:
    """The Stripe page where the customer saves the card securing an instant exchange;
    created once (again only after the last one expired). Commits what it records."""
    exchange = db.session.get(Exchange, exchange_id)
    if exchange is None or not wants_card(exchange):
        raise CardUnavailable("There is no card to save for this exchange.")
    if exchange.card_url:
        return exchange.card_url
    gateway = _gateway()
    metadata = {"rma": rma, "exchange_id": str(exchange.id)}
    customer = exchange.stripe_customer or gateway.create_customer(
        email=email, idempotency_key=f"exchange-{exchange.id}-customer", metadata=metadata)
    key = f"exchange-{exchange.id}-card"
    if exchange.card_session_id:  # the last page expired: a new session, a new key
        key = f"{key}-after-{exchange.card_session_id}"
    session = gateway.create_session({
        "mode": "setup", "currency": exchange.currency.lower(), "customer": customer,
        "payment_method_types": ["card"],
        "setup_intent_data": {"metadata": metadata},
        "success_url": success_url, "cancel_url": cancel_url,
    }, idempotency_key=key, metadata=metadata)
    exchange.stripe_customer = customer
    exchange.card_session_id, exchange.card_url = session["id"], session["url"]
    db.session.commit()
    return session["url"]


def apply_setup_event(exchange: Exchange, event: dict[str, Any]) -> tuple[str, str]:
    """A setup session's event, the exchange locked by the caller: a saved card is kept
    (and the new item ordered if the return is approved); an expired page can be opened
    anew."""
    session = event["data"]["object"]
    if exchange.card_session_id != session.get("id"):
        return "unmatched", "No exchange has this Checkout Session."
    if exchange.payment_method is not None:
        return "ignored", "The card is already saved."
    if event["type"] == "checkout.session.expired":
        exchange.card_url = None  # the next visit opens a new page
        db.session.flush()
        return "applied", "The card page expired: a new one is made on the next visit."
    setup_intent = session.get("setup_intent")
    if not setup_intent:
        return "ignored", "Completed without a SetupIntent."
    intent = _gateway().retrieve_setup_intent(str(setup_intent))
    if intent.get("status") != "succeeded" or not intent.get("payment_method"):
        return "ignored", f"The SetupIntent is {intent.get('status')}."
    exchange.payment_method = str(intent["payment_method"])
    exchange.stripe_customer = str(intent.get("customer") or exchange.stripe_customer)
    exchange.card_saved_at = utcnow()
    db.session.flush()
    # Read now, under the exchange's lock: an approval committing meanwhile either waited
    # for this lock (and will see the card) or is visible here.
    ret = db.session.scalar(select(Return).where(Return.id == exchange.return_id)
                            .execution_options(populate_existing=True))
    if ret is not None and ret.status in APPROVED:
        order_instant(exchange, ret)
    return "applied", "The card is saved."


def order_instant(exchange: Exchange, ret: Return) -> bool:
    """Order the new item of an instant exchange whose card is saved, its return approved:
    once (the row is locked; the order is unique per exchange). True when ordered now."""
    if not exchange.instant or ret.status not in APPROVED:
        return False
    exchange = _locked(exchange.id) or exchange  # a card being saved concurrently waits
    if exchange.payment_method is None or exchange.status != wf.Status.REQUESTED:
        return False
    order = services.order_exchange(exchange)
    locked = db.session.get(Exchange, exchange.id)
    if order is None or locked is None or locked.charge_due_at is not None:
        return False
    days = current_policy().exchanges.instant_days
    locked.charge_due_at = utcnow() + timedelta(days=days)
    db.session.flush()
    exchange_ordered.send(locked, order=order, ret=ret)
    _email(ret, locked, "exchange_instant_ordered")
    return True


def note_received(exchange: Exchange) -> None:
    """The original arrived: the saved card will not be charged."""
    if exchange.instant and exchange.original_received_at is None:
        exchange.original_received_at = utcnow()
        db.session.flush()


def _due(now: datetime) -> Any:
    return select(Exchange.id).where(
        Exchange.instant.is_(True), Exchange.status == wf.Status.SHIPPED,
        Exchange.charge_due_at <= now, Exchange.original_received_at.is_(None),
        Exchange.charge_payment_intent.is_(None), Exchange.charge_error.is_(None))


def queue_due_charges(now: datetime) -> int:
    """Scheduler: one charge job per instant exchange whose original is overdue (the
    outbox's dedupe key makes a second pass queue nothing new)."""
    queued = 0
    for exchange_id in db.session.scalars(_due(now).order_by(Exchange.id)):
        if emit(CHARGE_TOPIC, {"exchange_id": exchange_id},
                dedupe_key=f"{CHARGE_TOPIC}:{exchange_id}") is not None:
            queued += 1
    db.session.commit()
    return queued


def charge_missing_item(exchange_id: int) -> str:
    """Charge the saved card the original's value, once; the caller commits the outcome.
    Safe to run again after a crash or concurrently: Stripe is asked with the exchange's
    idempotency key, after looking for the payment intent an earlier run made."""
    exchange = db.session.get(Exchange, exchange_id)
    if (exchange is None or not exchange.instant or exchange.status != wf.Status.SHIPPED
            or exchange.original_received_at is not None or exchange.charge_payment_intent
            or exchange.charge_error):
        return "nothing to charge"
    if not (exchange.stripe_customer and exchange.payment_method):
        return _failed(exchange_id, "no saved card")
    gateway = _gateway()
    try:
        intent = gateway.find_payment_intent(
            customer=exchange.stripe_customer, key=CHARGE_METADATA_KEY, value=str(exchange.id))
        if intent is None or intent.get("status") == "requires_payment_method":
            intent = gateway.charge_off_session(
                amount=exchange.original_value, currency=exchange.currency,
                customer=exchange.stripe_customer, payment_method=exchange.payment_method,
                idempotency_key=f"exchange-{exchange.id}-missing-item",
                metadata={CHARGE_METADATA_KEY: str(exchange.id),
                          "rma": _rma(exchange.return_id)})
    except TransientPaymentError as exc:
        raise RetryLater(f"Stripe unreachable: {exc}") from exc
    except PermanentPaymentError as exc:
        return _failed(exchange_id, f"{exc.code or 'declined'}: {exc}")
    if intent.get("status") != "succeeded":
        return _failed(exchange_id, f"the payment is {intent.get('status')}")
    locked = _locked(exchange_id)
    if locked is None or locked.status != wf.Status.SHIPPED or locked.charge_payment_intent:
        return "already charged"
    locked.charge_payment_intent = str(intent["id"])
    wf.fire(locked, "charge_for_missing_item")
    db.session.flush()
    ret = db.session.get(Return, locked.return_id)
    if ret is not None:
        _email(ret, locked, "exchange_charged")
    return "charged"


def _failed(exchange_id: int, reason: str) -> str:
    """The charge did not go through: the exchange is not tried again; staff are asked."""
    locked = _locked(exchange_id)
    if locked is None or locked.charge_error or locked.charge_payment_intent:
        return "already handled"
    locked.charge_error = reason[:1000]
    ret = db.session.get(Return, locked.return_id)
    if ret is not None:
        flag_for_review(ret, f"Instant exchange {locked.from_sku} → {locked.to_sku}: the "
                        f"original did not arrive and charging the saved card "
                        f"{format_money(locked.original_value, locked.currency)} failed "
                        f"({reason}). Contact the customer.", Actor.system("exchanges"))
        save(ret)
    db.session.flush()
    return "charge failed"


def _locked(exchange_id: int) -> Exchange | None:
    return db.session.scalar(select(Exchange).where(Exchange.id == exchange_id)
                             .with_for_update().execution_options(populate_existing=True))


def _rma(return_id: int) -> str:
    ret = db.session.get(Return, return_id)
    return ret.rma if ret is not None else ""


def _email(ret: Return, exchange: Exchange, step: str) -> None:
    name = ret.order.customer_name.strip()
    queue_email(ret.order.email, step, {
        "rma": ret.rma, "first_name": name.split()[0] if name else "there",
        "title": exchange.variant.title, "from_sku": exchange.from_sku,
        # Minor units, written in the customer's language when the email is rendered (a
        # key of its own: "amount" is the refund a refund email is about).
        "charge_amount": exchange.original_value,
        "due": exchange.charge_due_at.date().isoformat() if exchange.charge_due_at else ""},
        key=f"notify:{ret.rma}:{step}:{exchange.id}", subject=customer_subject(ret, step),
        ret=ret)
