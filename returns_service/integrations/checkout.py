"""Orders from Stripe Checkout: with STRIPE_IMPORT_ORDERS, `checkout.session.completed` and
`checkout.session.async_payment_succeeded` create or update the order the session paid for.

The webhook records the event once (the same `stripe_events` table and rules as every Stripe
event) and queues `import_session`. The job reads the session and its line items from Stripe
(through `payments.stripe`, pages included), maps them to the store's order shape, validates
that like `POST /api/v1/orders`, and upserts the order through the orders domain. A session
is imported once (`checkout_imports`, unique by session id): later events update the same
order. Sessions the service created itself (SERVICE_METADATA_KEY in their metadata) are never
orders.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import select

from returns_service.common.clock import utcnow
from returns_service.common.errors import RetryLater, ValidationFailed
from returns_service.db import db
from returns_service.db.insert_once import insert_once
from returns_service.integrations.models import CheckoutImport
from returns_service.orders.models import Order
from returns_service.orders.schemas import OrderIn
from returns_service.orders.services import upsert_order
from returns_service.outbox.service import emit
from returns_service.payments.models import StripeEvent
from returns_service.payments.stripe import (
    SERVICE_METADATA_KEY,
    PermanentPaymentError,
    StripeCheckoutGateway,
    from_stripe_amount,
)

CHECKOUT_EVENTS = frozenset({"checkout.session.completed",
                             "checkout.session.async_payment_succeeded"})
IMPORT_TOPIC = "checkout.import"
PAID = ("paid", "no_payment_required")
CHANNEL = "stripe_checkout"


def handles(event_type: str) -> bool:
    """Whether this event is an order to import here (STRIPE_IMPORT_ORDERS is on)."""
    return event_type in CHECKOUT_EVENTS and bool(current_app.config["STRIPE_IMPORT_ORDERS"])


def receive_event(event: dict[str, Any]) -> str:
    """Record a verified Checkout event once and queue its import; the caller commits.
    "duplicate" for a redelivery, "rejected" when it names no session, else "queued"."""
    session_id = event["data"]["object"].get("id")
    values: dict[str, Any] = {"event_id": event["id"], "type": event["type"],
                              "payload": event}
    problem = None if isinstance(session_id, str) and 0 < len(session_id) <= 255 \
        else "data.object.id must be the Checkout Session's id."
    if problem:
        values.update(result="rejected", processed_at=utcnow(), detail=problem)
    row_id = insert_once(StripeEvent, values, unique="event_id")
    if row_id is None:
        return "duplicate"
    if problem:
        return "rejected"
    emit(IMPORT_TOPIC, {"stripe_event_id": row_id}, dedupe_key=f"{IMPORT_TOPIC}:{event['id']}")
    return "queued"


def gateway() -> StripeCheckoutGateway:
    cfg = current_app.config
    if not cfg.get("STRIPE_API_KEY"):
        raise RetryLater("STRIPE_API_KEY is not configured; Checkout orders wait until it is")
    return StripeCheckoutGateway(cfg["STRIPE_API_KEY"], cfg.get("STRIPE_API_BASE"))


def import_session(stripe_event_id: int) -> str:
    """Job: import the order of one stored Checkout event. Stripe is read before any row is
    locked; the event is re-checked under its lock. Safe to run twice."""
    row = db.session.get(StripeEvent, stripe_event_id)
    if row is None or row.processed_at is not None:
        db.session.rollback()
        return "nothing to do"
    session_id = row.payload["data"]["object"]["id"]
    db.session.rollback()
    stripe = gateway()
    try:
        session = stripe.retrieve_session(session_id)  # as it is now, not as the event saw it
        skip = _not_an_order(session)
        items = [] if skip else stripe.list_line_items(session_id)
    except PermanentPaymentError as exc:  # not this account's session: retrying cannot help
        row = db.session.get(StripeEvent, stripe_event_id, with_for_update=True)
        if row is None or row.processed_at is not None:
            db.session.rollback()
            return "nothing to do"
        return _settle(row, "rejected", f"Stripe could not give the session: {exc}")
    row = db.session.scalar(select(StripeEvent).where(StripeEvent.id == stripe_event_id)
                            .with_for_update().execution_options(populate_existing=True))
    if row is None or row.processed_at is not None:
        db.session.rollback()
        return "nothing to do"
    if skip:
        return _settle(row, "ignored", skip)
    try:
        data = OrderIn().load(order_payload(session, items, _number(session)))
    except ValidationError as exc:
        return _settle(row, "rejected", f"The session cannot be an order: {exc.messages}")
    try:
        order, created = upsert_order(data)
    except ValidationFailed as exc:  # a re-import that would change what returns rest on
        db.session.rollback()
        row = db.session.get(StripeEvent, stripe_event_id, with_for_update=True)
        assert row is not None
        return _settle(row, "rejected", f"Order {data['number']} not updated: {exc.errors}")
    if insert_once(CheckoutImport, {"session_id": session_id, "order_id": order.id,
                                    "created_at": utcnow(), "updated_at": utcnow()},
                   unique="session_id") is None:
        db.session.execute(CheckoutImport.__table__.update()
                           .where(CheckoutImport.__table__.c.session_id == session_id)
                           .values(updated_at=utcnow()))
    return _settle(row, "applied",
                   f"{'created' if created else 'updated'} order {order.number}")


def _settle(row: StripeEvent, result: str, detail: str) -> str:
    row.processed_at, row.result, row.detail = utcnow(), result, detail[:2000]
    db.session.commit()
    return f"{result}: {detail}"


def _not_an_order(session: dict[str, Any]) -> str | None:
    if SERVICE_METADATA_KEY in (session.get("metadata") or {}):
        return "A session this service created (not an order)."
    if session.get("mode") not in (None, "payment"):
        return f"A {session.get('mode')} session, not a payment."
    if session.get("payment_status") not in PAID:
        return ("The payment is not complete yet; checkout.session.async_payment_succeeded "
                "will import the order.")
    return None


def _number(session: dict[str, Any]) -> str:
    """The order number: the session's metadata key, else the order it was imported as,
    else the session id (cut to the 64 characters an order number may have)."""
    key = current_app.config["STRIPE_ORDER_NUMBER_KEY"]
    number = str((session.get("metadata") or {}).get(key) or "").strip()
    if number:
        return number
    existing = db.session.scalar(select(Order.number).join(
        CheckoutImport, CheckoutImport.order_id == Order.id).where(
        CheckoutImport.session_id == session["id"]))
    return existing or session["id"][:64]


def _id(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) else value


def order_payload(session: dict[str, Any], items: list[dict[str, Any]],
                  number: str) -> dict[str, Any]:
    """The order, in the shape `POST /api/v1/orders` takes, from a session and its items.

    Each line's unit price is what was paid for it (`amount_total`: after discounts, taxes
    included) divided by its quantity, rounded down; lines with the same SKU are merged."""
    currency = str(session.get("currency") or "").upper()
    lines: dict[str, dict[str, Any]] = {}
    for item in items:
        price = item.get("price") or {}
        product = price.get("product") if isinstance(price.get("product"), dict) else {}
        sku = str((price.get("metadata") or {}).get("sku")
                  or (product.get("metadata") or {}).get("sku")
                  or _id(price.get("product")) or price.get("id") or item.get("id"))
        quantity = int(item.get("quantity") or 1)
        paid = from_stripe_amount(int(item.get("amount_total") or 0), currency)
        line = lines.setdefault(sku, {"sku": sku, "quantity": 0, "paid": 0, "name":
                                      item.get("description") or product.get("name") or sku})
        line["quantity"] += quantity
        line["paid"] += paid
    customer = session.get("customer_details") or {}
    shipping = session.get("collected_information") or {}
    shipping_details = shipping.get("shipping_details") or session.get("shipping_details") or {}
    shipping_cost = (session.get("shipping_cost") or {}).get("amount_total")
    if shipping_cost is None:
        shipping_cost = (session.get("total_details") or {}).get("amount_shipping") or 0
    intent = _id(session.get("payment_intent"))
    return {
        "number": number,
        "email": customer.get("email") or session.get("customer_email") or "",
        "customer_name": customer.get("name") or shipping_details.get("name")
        or customer.get("email") or session.get("customer_email") or "",
        "currency": currency,
        "placed_at": datetime.fromtimestamp(int(session.get("created") or 0),
                                            UTC).isoformat(),
        "channel": CHANNEL,
        "shipping_total": from_stripe_amount(int(shipping_cost), currency),
        "payment": {"provider": "stripe", "payment_intent": intent} if intent else None,
        "lines": [{"sku": line["sku"][:100], "name": str(line["name"])[:300],
                   "quantity": line["quantity"],
                   "unit_price": line["paid"] // line["quantity"]}
                  for line in lines.values()],
    }
