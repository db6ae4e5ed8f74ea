"""The events outbound webhooks carry: their catalogue, their versioned payloads, and how one
is recorded: for every enabled endpoint subscribed to its type, a delivery row with the
endpoint's next sequence number and an outbox message, in the transaction of the change
that caused it (so an event is sent if and only if its change committed).

Payload version 1 (Standard Webhooks shape plus a version and the endpoint's sequence):
`{"type", "version", "sequence", "timestamp", "data"}`.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import bindparam, select, update

from returns_service.common.clock import utcnow
from returns_service.credits.services import credit_for_return
from returns_service.db import db
from returns_service.integrations.models import WebhookDelivery, WebhookEndpoint
from returns_service.outbox.service import emit
from returns_service.returns.models import transaction_memo
from returns_service.shipping.services import tracking_url

PAYLOAD_VERSION = 1
DELIVER_TOPIC = "webhooks.deliver"

# Every event type an endpoint can subscribe to, with what it means (docs, API, console).
EVENT_TYPES: dict[str, str] = {
    "return.requested": "A customer (or an agent for them) requested a return.",
    "return.approved": "The return was approved (by an agent or the policy): a parcel "
                       "will come.",
    "return.rejected": "The return request was rejected, with a reason.",
    "return.cancelled": "The return was cancelled before the parcel arrived.",
    "return.received": "The warehouse recorded the parcel: each item's received quantity, "
                       "condition and whether it goes back to stock.",
    "refund.succeeded": "A refund went through (Stripe, the Stripe dashboard, or recorded "
                        "by an agent as made outside Stripe).",
    "refund.failed": "A refund failed or was canceled at Stripe.",
    "credit.issued": "The customer chose store credit: a code was issued for the return "
                     "(amount plus bonus), to redeem at the store's checkout.",
    "exchange.ordered": "The original of an exchange arrived: the new variant is to be "
                        "shipped (the exchange order, also listed by "
                        "GET /api/v1/exchange-orders).",
    "shipment.label_ready": "The return label was bought: carrier, tracking number, cost.",
    "shipment.label_failed": "No return label could be bought (the reason says what to "
                             "fix); the customer still has the return slip.",
    "shipment.in_transit": "The carrier scanned the return parcel: it is on its way.",
    "shipment.delivered": "The carrier delivered the return parcel to the warehouse.",
    "shipment.returned_to_sender": "The carrier is sending the return parcel back to the "
                                   "customer.",
    "shipment.lost": "The carrier reported the return parcel lost.",
}
TEST_EVENT = "webhook.test"  # sent by "Send test event" only, to one endpoint

# Return status reached -> the event it sends.
RETURN_EVENTS = {"requested": "return.requested", "approved": "return.approved",
                 "rejected": "return.rejected", "cancelled": "return.cancelled",
                 "received": "return.received"}


def new_message_id() -> str:
    return "msg_" + secrets.token_hex(12)


def return_data(ret: Any, *, previous_status: str | None = None) -> dict[str, Any]:
    """What an event says about a return: read from the objects in memory (the change is
    not flushed yet when the signal arrives)."""
    order = ret.order
    return {"return": {
        "rma": ret.rma, "status": ret.status, "previous_status": previous_status,
        "order_number": order.number, "customer_email": order.email,
        "currency": order.currency, "channel": ret.channel,
        "rejection_reason": ret.rejection_reason,
        "refund_amount": ret.refund_amount,
        "resolution": ret.resolution, "keep_item": bool(ret.keep_item),
        "items": [{
            "sku": item.order_line.sku, "name": item.order_line.name,
            "quantity": item.quantity, "reason": item.reason,
            "received_quantity": item.received_quantity, "condition": item.condition,
            "restock": item.restock} for item in ret.items]}}


def refund_data(refund: Any, ret: Any | None) -> dict[str, Any]:
    return {"refund": {
        "id": refund.id, "amount": refund.amount, "currency": refund.currency,
        "status": refund.status, "origin": refund.origin, "attempt": refund.attempt,
        "provider_refund_id": refund.provider_refund_id,
        "payment_intent": refund.payment_intent, "failure_reason": refund.failure_reason,
        "rma": ret.rma if ret is not None else None,
        "order_number": ret.order.number if ret is not None else None}}


_ENDPOINTS = WebhookEndpoint.__table__
# Built once: every status change of every return runs the first.
_ENABLED = (select(_ENDPOINTS.c.id, _ENDPOINTS.c.event_types)
            .where(_ENDPOINTS.c.enabled.is_(True)).order_by(_ENDPOINTS.c.id))
_ENABLED_ONE = _ENABLED.where(_ENDPOINTS.c.id == bindparam("endpoint_id"))


def _enabled_endpoints() -> list[Any]:
    """The enabled endpoints, read once per transaction (a receipt moves its return twice)."""
    memo = transaction_memo()
    rows = memo.get(_ENABLED)
    if rows is None:
        rows = memo[_ENABLED] = db.session.connection().execute(_ENABLED).all()
    return rows


def record_event(event_type: str, data: dict[str, Any], *,
                 endpoint_id: int | None = None) -> list[int]:
    """Record `event_type` for each enabled endpoint that receives it (or only for
    `endpoint_id`, whatever it subscribes to: the test event). Inside the caller's
    transaction; the ids of the delivery rows written."""
    with db.session.no_autoflush:  # the caller's pending rows are its own business
        if endpoint_id is None:
            rows = _enabled_endpoints()
        else:
            rows = db.session.connection().execute(
                _ENABLED_ONE, {"endpoint_id": endpoint_id}).all()
        targets = [row.id for row in rows if endpoint_id is not None
                   or "*" in row.event_types or event_type in row.event_types]
        written = []
        now = utcnow()
        for target in targets:  # in id order: two transactions lock endpoints alike
            # The UPDATE takes the endpoint's row lock until commit: sequence numbers are
            # handed out in commit order, with no gaps.
            sequence = db.session.connection().execute(
                update(_ENDPOINTS).where(_ENDPOINTS.c.id == target)
                .values(last_sequence=_ENDPOINTS.c.last_sequence + 1)
                .returning(_ENDPOINTS.c.last_sequence)).scalar_one()
            payload = {"type": event_type, "version": PAYLOAD_VERSION, "sequence": sequence,
                       "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data}
            delivery_id = db.session.connection().execute(
                WebhookDelivery.__table__.insert().values(
                    endpoint_id=target, sequence=sequence, message_id=new_message_id(),
                    event_type=event_type, payload=payload, status="pending", attempts=0,
                    next_attempt_at=now, created_at=now)
                .returning(WebhookDelivery.__table__.c.id)).scalar_one()
            emit(DELIVER_TOPIC, {"endpoint_id": target})
            written.append(delivery_id)
    return written


# --- signal receivers (connected in init_app) ----------------------------------------------

def on_status_changed(ret: Any, event: Any, **_: Any) -> None:
    """A return moved: the matching return.* event."""
    event_type = RETURN_EVENTS.get(str(event.to_status))
    if event_type is not None:
        record_event(event_type, return_data(ret, previous_status=event.from_status))
    elif event.to_status == "credited":
        record_event("credit.issued", {**return_data(ret, previous_status=event.from_status),
                                       "credit": credit_data(ret)})


def credit_data(ret: Any) -> dict[str, Any]:
    """The credit a credited return was issued (written just before its status change)."""
    code = credit_for_return(db.session, ret.id)
    return {"code": code.code if code is not None else None,
            "amount": ret.refund_amount, "bonus": ret.credit_bonus_amount,
            "currency": ret.order.currency}


def on_exchange_ordered(exchange: Any, *, order: Any, ret: Any, **_: Any) -> None:
    """An exchange order was created: the store ships the new variant."""
    record_event("exchange.ordered", {**return_data(ret), "exchange_order": {
        "id": order.id, "sku": order.sku, "quantity": order.quantity,
        "exchanged_from": exchange.from_sku, "difference": exchange.difference,
        "currency": exchange.currency}})


def shipment_data(shipment: Any) -> dict[str, Any]:
    """What a shipment.* event says about the parcel (read from the objects in memory)."""
    return {"shipment": {
        "status": str(shipment.status), "provider": shipment.provider,
        "carrier": shipment.carrier, "service": shipment.service,
        "tracking_number": shipment.tracking_code,
        "tracking_url": tracking_url(shipment.carrier, shipment.tracking_code),
        "label_cost": shipment.label_amount, "label_currency": shipment.label_currency,
        "est_delivery_at": _iso(shipment.est_delivery_at),
        "first_scan_at": _iso(shipment.first_scan_at),
        "delivered_at": _iso(shipment.delivered_at),
        "failure_code": shipment.failure_code, "failure_message": shipment.failure_message}}


def _iso(when: Any) -> str | None:
    return None if when is None else when.isoformat().replace("+00:00", "Z")


def on_shipment_changed(shipment: Any, *, return_: Any, status: str, **_: Any) -> None:
    """A return parcel's label was bought or failed, or tracking moved it."""
    event_type = f"shipment.{status}"
    if event_type in EVENT_TYPES:
        record_event(event_type, {**return_data(return_), **shipment_data(shipment)})


def on_refund_outcome(refund: Any, ret: Any | None = None, **_: Any) -> None:
    """A refund reached succeeded or failed/canceled."""
    event_type = "refund.succeeded" if refund.status == "succeeded" else "refund.failed"
    record_event(event_type, refund_data(refund, ret))
