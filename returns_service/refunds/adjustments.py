"""Agents' adjustments to what a return pays out: goodwill added, or a deduction (item used,
accessory missing), each with the policy's reason, a note and its author, before the payout.

Caps: the adjusted payout never exceeds what the order still has unrefunded, and never goes
below zero; agents adjust up to the policy's limit per currency, admins above it (the caller
says whether its user may, from the permissions table).
"""

from __future__ import annotations

from sqlalchemy import select

from returns_service.common.errors import EditConflict, Forbidden, ValidationFailed
from returns_service.common.money import format_money
from returns_service.db import db
from returns_service.orders.services import lock_order
from returns_service.refunds.amounts import order_figures
from returns_service.refunds.breakdown import refund_breakdown
from returns_service.returns.models import Return, ReturnAdjustment, ReturnEvent
from returns_service.returns.services import current_policy, lock_return
from returns_service.returns.writes import save
from workflows.returns import Actor

# Before the payout starts (refund_failed: before the retry, which pays the adjusted figure).
ADJUSTABLE = frozenset({"requested", "approved", "refund_failed"})


def adjust_payout(rma: str, actor: Actor, *, kind: str, amount: int, reason: str,
                  note: str | None = None, above_limit_allowed: bool = False,
                  expected_version: int | None = None) -> Return:
    """Record one adjustment of `amount` (> 0, minor units) on the return and its audit
    event; the answer is the return, adjusted.

    Raises ValidationFailed (bad input, or the cap: never above what the order still has
    unrefunded, never below zero), Forbidden (above the agents' limit for one who may not),
    EditConflict (the payout has started)."""
    policy = current_policy().adjustments
    code = policy.reason(reason)
    errors: dict[str, list[str]] = {}
    if code is None:
        errors["reason"] = [f"Must be one of: {', '.join(r.code for r in policy.reasons)}."]
    elif code.kind != kind:
        errors["reason"] = [f"“{code.label}” is a {code.kind}, not a {kind}."]
    if amount <= 0:
        errors["amount"] = ["Must be more than zero."]
    if errors:
        raise ValidationFailed(errors)
    ret = lock_return(rma, expected_version)
    if ret.status not in ADJUSTABLE:
        raise EditConflict(f"{ret.rma} is {ret.status}: its payout can no longer be adjusted.",
                           current_status=ret.status, current_version=ret.version)
    currency = ret.order.currency
    signed = amount if kind == "goodwill" else -amount
    if not above_limit_allowed and not policy.agent_may(currency, signed):
        limit = policy.agent_limit.get(currency)
        raise Forbidden(
            f"Adjustments above {format_money(limit, currency)} need an admin." if limit
            else f"Agents may not adjust payouts in {currency}; ask an admin.")
    lock_order(ret.order_id)  # the cap reads what the order's other returns took
    _check_cap(ret, signed)
    adjustment = ReturnAdjustment(return_id=ret.id, amount=signed, reason=reason,
                                  note=(note or "").strip() or None, actor_type=actor.type,
                                  actor_id=actor.id, actor_label=actor.label)
    db.session.add(adjustment)
    ret.adjustment_amount = (ret.adjustment_amount or 0) + signed
    if ret.status == "refund_failed" and ret.refund_amount is not None:
        ret.refund_amount = max(0, ret.refund_amount + signed)
    ret.add_event(ReturnEvent(
        kind="adjustment", trigger="adjust", actor_type=actor.type, actor_id=actor.id,
        actor_label=actor.label, customer_visible=False, note=adjustment.note,
        data={"amount": signed, "reason": reason, "currency": currency}))
    save(ret)
    db.session.flush()
    return ret


def _check_cap(ret: Return, signed: int) -> None:
    """The payout after this adjustment: at most what the order has left, at least zero.
    Before receipt it is the estimate for what was asked (the figure at receipt is capped
    again); after a failed refund, what the retry would pay."""
    currency = ret.order.currency
    figures = order_figures(ret.order, exclude_return_id=ret.id)
    if ret.status == "refund_failed":
        payout = ret.refund_amount or 0
    else:
        estimate = refund_breakdown(ret, estimate=True, figures=figures)
        payout = (estimate.items_amount - estimate.restocking_fee + estimate.shipping_amount
                  + estimate.adjustments)
    left = figures.lines_total + ret.order.shipping_paid - figures.refunded
    if payout + signed > left:
        raise ValidationFailed({"amount": [
            f"At most {format_money(max(0, left - payout), currency)} can be added: the "
            f"order has {format_money(left, currency)} left to refund."]})
    if payout + signed < 0:
        raise ValidationFailed({"amount": [
            f"At most {format_money(max(0, payout), currency)} can be deducted: the payout "
            "cannot go below zero."]})


def adjustments_of(ret: Return) -> list[ReturnAdjustment]:
    """A return's adjustments, oldest first (for the breakdown shown line by line)."""
    return list(db.session.scalars(select(ReturnAdjustment)
                                   .where(ReturnAdjustment.return_id == ret.id)
                                   .order_by(ReturnAdjustment.id)))
