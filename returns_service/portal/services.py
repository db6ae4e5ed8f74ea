"""Portal use cases that are not the return's own rules: the refund estimate of a draft and
the customer's view of a return. Creating and cancelling go through returns.services."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext

from returns_service.common.i18n import N_, policy_label, refund_statement_text
from returns_service.exchanges.instant import wants_card
from returns_service.exchanges.payment import online_payment_available
from returns_service.exchanges.services import draft_difference, exchanges_of, offer_for_line
from returns_service.orders.models import Order
from returns_service.portal.wording import next_step, status_label, status_tone
from returns_service.refunds.adjustments import adjustments_of
from returns_service.refunds.breakdown import refund_breakdown
from returns_service.refunds.calculator import RefundBreakdown
from returns_service.refunds.credit import store_credit_offer
from returns_service.returns.eligibility import keep_item_applies
from returns_service.returns.models import Return, ReturnItem
from returns_service.returns.services import (
    RESOLUTION_CHANGEABLE,
    current_policy,
    events_of,
)
from workflows.returns import allowed_triggers


def _draft(order: Order, items: list[dict[str, Any]]) -> Return:
    """A Return for items not yet requested, kept out of the session."""
    return Return(order=order, adjustment_amount=0, status="requested", items=[
        ReturnItem(order_line=order.line_by_sku(item["sku"]), quantity=item["quantity"],
                   reason=item["reason"]) for item in items])


def estimate_draft(order: Order, items: list[dict[str, Any]]) -> RefundBreakdown:
    """Expected refund for items not yet requested: the refunded ones, plus what a cheaper
    variant leaves owed on the exchanged ones."""
    refunded = [item for item in items if not item.get("exchange_sku")]
    estimate = refund_breakdown(_draft(order, refunded), estimate=True)
    owed = sum(max(0, -(exchange_difference(order, item) or 0))
               for item in items if item.get("exchange_sku"))
    if owed:
        estimate = replace(estimate, items_amount=estimate.items_amount + owed,
                           total=estimate.total + owed)
    return estimate


def exchange_offers(order: Order, eligibility: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """The variants each returnable line may be exchanged for (lines with none left out)."""
    upgrades = online_payment_available()
    offers = {e.line.sku: offer_for_line(order, e.line, upgrades=upgrades)
              for e in eligibility if e.eligible}
    return {sku: offer for sku, offer in offers.items() if offer}


def exchange_difference(order: Order, item: dict[str, Any]) -> int | None:
    line = order.line_by_sku(item["sku"])
    if line is None or not item.get("exchange_sku"):
        return None
    return draft_difference(order, line, item["quantity"], item["exchange_sku"],
                            upgrades=online_payment_available())


def payout_offer(ret: Return, payout: int) -> dict[str, Any]:
    """What each way of being paid back gives: the refund, and store credit with its bonus
    (None when the policy offers no store credit)."""
    return {"refund": payout, "store_credit": store_credit_offer(ret, payout)}


def draft_offer(order: Order, items: list[dict[str, Any]],
                estimate: RefundBreakdown) -> dict[str, Any]:
    return payout_offer(_draft(order, items), estimate.total)


def draft_keeps_items(order: Order, items: list[dict[str, Any]]) -> bool:
    """Whether this draft would be a keep-the-item return (told on the review page; decided
    again when it is sent)."""
    policy = current_policy()
    lines = [(order.line_by_sku(item["sku"]), item["reason"]) for item in items]
    return policy.keep_item.enabled and all(line is not None for line, _ in lines) and \
        keep_item_applies(order, lines, policy)  # type: ignore[arg-type]


def reason_label(code: str) -> str:
    reason = current_policy().reason(code)
    return policy_label(reason) if reason else code


@dataclass(frozen=True)
class TimelineEntry:
    label: str
    at: datetime
    detail: str | None = None


def timeline(ret: Return) -> list[TimelineEntry]:
    """Every customer-visible status change, oldest first, in customer words."""
    entries = []
    for event in events_of(ret, customer_visible_only=True):
        if event.kind != "status" or not event.to_status:
            continue
        detail = None
        if event.to_status == "rejected":
            reason = current_policy().rejection_reason(ret.rejection_reason or "")
            detail = policy_label(reason) if reason else None
        entries.append(TimelineEntry(status_label(event.to_status), event.created_at, detail))
    return entries


def _ended_by(ret: Return) -> Any:
    """The event that cancelled a cancelled return (its actor and note), else None."""
    if ret.status != "cancelled":
        return None
    return next((e for e in reversed(events_of(ret, customer_visible_only=True))
                 if e.kind == "status" and e.to_status == "cancelled"), None)


def status_view(ret: Return) -> dict[str, Any]:
    """Everything the status page shows about one return."""
    config = current_app.config
    ended_by = _ended_by(ret)
    refund = None
    if ret.refund_amount is not None:
        refund = {"items": ret.refund_items_amount or 0, "shipping": ret.refund_shipping_amount
                  or 0, "restocking_fee": ret.restocking_fee_amount or 0,
                  "adjustments": ret.adjustment_amount or 0, "total": ret.refund_amount,
                  "discount": ret.refund_discount_amount or 0,
                  "tax_added": ret.refund_tax_added or 0, "tax": ret.refund_tax_amount or 0,
                  "list_price": (ret.refund_items_amount or 0)
                  + (ret.refund_discount_amount or 0) - (ret.refund_tax_added or 0)}
    estimate = refund_breakdown(ret, estimate=True)
    adjustments = [{"label": _adjustment_label(a.reason), "amount": a.amount}
                   for a in adjustments_of(ret)] if ret.adjustment_amount else []
    return {
        "rma": ret.rma, "status": ret.status, "version": ret.version,
        "status_label": status_label(ret.status), "tone": status_tone(ret.status),
        "next_step": next_step(ret.status, rma=ret.rma,
                               hours=int(config["FIRST_RESPONSE_TARGET_HOURS"]),
                               address=config.get("RETURN_ADDRESS"),
                               statement=refund_statement_text(),
                               by_staff=ended_by is not None and ended_by.actor_type != "customer",
                               keep_item=bool(ret.keep_item)),
        "order_number": ret.order.number, "currency": ret.order.currency,
        "created_at": ret.created_at,
        "items": [{"id": i.id, "name": i.order_line.name, "sku": i.order_line.sku,
                   "quantity": i.quantity,
                   "unit_price": i.order_line.unit_price, "reason": reason_label(i.reason),
                   "comment": i.comment} for i in ret.items],
        "timeline": timeline(ret),
        "estimate": estimate,
        "refund": refund,
        "adjustments": adjustments,
        "resolution": ret.resolution, "keep_item": bool(ret.keep_item),
        "offer": payout_offer(ret, estimate.total if refund is None else refund["total"]),
        "can_change_resolution": ret.status in RESOLUTION_CHANGEABLE
        and len(current_policy().resolutions()) > 1,
        "customer_message": ret.customer_message if ret.status == "rejected"
        else ended_by.note if ended_by is not None and ended_by.actor_type != "customer"
        else None,
        "can_cancel": "cancel" in allowed_triggers(ret.status),
        "exchanges": [{"title": e.variant.title, "status": e.status,
                       "difference": e.difference, "message": _exchange_message(e.status),
                       "instant": e.instant, "wants_card": wants_card(e),
                       "card_saved": e.payment_method is not None, "value": e.original_value,
                       "charge_due_at": e.charge_due_at,
                       "received": e.original_received_at is not None}
                      for e in exchanges_of(ret.id)],
        "instant_days": current_policy().exchanges.instant_days,
    }


# What the status page says of an exchange, by its status.
EXCHANGE_MESSAGES = {
    "requested": N_("We send it when your parcel arrives."),
    "awaiting_payment": N_("Waiting for your payment of the difference."),
    "ordered": N_("Your parcel arrived: we are sending your new item."),
    "shipped": N_("Your new item is on its way."),
    "cancelled": N_("Cancelled: the item is refunded instead."),
    "expired": N_("The payment page expired before the difference was paid, so the exchange "
                  "was not made: the item is refunded when your parcel arrives."),
}


def _exchange_message(status: str) -> str | None:
    """An exchange's status in the customer's language (None: nothing to add)."""
    message = EXCHANGE_MESSAGES.get(status)
    return gettext(message) if message else None


def _adjustment_label(code: str) -> str:
    reason = current_policy().adjustments.reason(code)
    return policy_label(reason) if reason else code
