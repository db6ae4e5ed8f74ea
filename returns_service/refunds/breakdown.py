"""The refund a return is owed: what arrived (or, for an estimate, what was asked for), priced
by the policy (calculator.py) at what was paid, and capped by what the order still has
refundable."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import bindparam, func, select

from returns_service.common.money import refund_step
from returns_service.db import db
from returns_service.orders.models import Order
from returns_service.refunds.amounts import OrderFigures, order_figures
from returns_service.refunds.calculator import (
    RefundBreakdown,
    RefundLine,
    TaxLine,
    compute_refund,
)
from returns_service.refunds.signals import exchanged_items
from returns_service.returns.models import Return, ReturnItem
from returns_service.returns.services import current_policy


def refund_breakdown(ret: Return, *, estimate: bool = False,
                     siblings: dict[int, tuple[int, bool]] | None = None,
                     figures: OrderFigures | None = None) -> RefundBreakdown:
    """Refund for what was received (or, with estimate=True, for what was requested).

    `siblings` (this order's entry of refunds.amounts.refund_context) saves a query per
    return when many are shown at once: return id -> (live refund amount, shipping refunded).
    `figures`: the order's figures leaving this return out, when the caller has read them.
    """
    order = ret.order
    lines = _refund_lines(ret, estimate)
    common: dict[str, Any] = {
        "shipping_total": order.shipping_total, "step": refund_step(order.currency),
        "adjustments": ret.adjustment_amount or 0, "shipping_taxes": shipping_taxes(order)}
    if siblings is not None:
        others = [v for rid, v in siblings.items() if rid != ret.id]
        return _less_return_shipping(ret, compute_refund(
            current_policy(), lines,
            shipping_already_refunded=any(shipped for _, shipped in others),
            remaining_refundable=order.total - sum(amount for amount, _ in others), **common))
    if figures is None:
        figures = order_figures(order, exclude_return_id=ret.id)
    # The order's total from the figures' statement: its lines need not be loaded.
    total = figures.lines_total + order.shipping_paid
    return _less_return_shipping(ret, compute_refund(
        current_policy(), lines, shipping_already_refunded=figures.shipping_claimed,
        remaining_refundable=total - figures.refunded, **common))


def taxes_of(raw: list[dict[str, Any]] | None) -> tuple[TaxLine, ...]:
    return tuple(TaxLine(rate=str(t["rate"]), amount=int(t["amount"]), name=t.get("name", ""),
                         included=bool(t.get("included"))) for t in raw or ())


def shipping_taxes(order: Order) -> tuple[TaxLine, ...]:
    return taxes_of([order.shipping_tax] if order.shipping_tax else None)


def _less_return_shipping(ret: Return, breakdown: RefundBreakdown) -> RefundBreakdown:
    """The policy's return shipping fee (none for merchant-fault reasons), off the total."""
    fee = current_policy().return_shipping_fee(ret.order.currency,
                                               [item.reason for item in ret.items])
    fee = min(fee, breakdown.total)
    return replace(breakdown, return_shipping_fee=fee, total=breakdown.total - fee) \
        if fee else breakdown


def _refund_lines(ret: Return, estimate: bool) -> list[RefundLine]:
    # An exchanged line is made good with the new item: refunded only what a cheaper
    # variant leaves owed, as one amount (the exchange priced it once, when requested).
    exchanged = exchanged_items(ret) if ret.id is not None else {}
    lines = []
    priced = None
    for item in ret.items:
        if item.id in exchanged:
            if exchanged[item.id] > 0:
                lines.append(RefundLine(unit_price=exchanged[item.id], quantity=1,
                                        reason=item.reason,
                                        condition=None if estimate else item.condition))
            continue
        line = item.order_line
        quantity = item.quantity if estimate else (item.received_quantity or 0)
        if not line.discount and not line.tax_lines:
            # Priced as before: unit price x quantity, whoever came first.
            lines.append(RefundLine(unit_price=line.unit_price, quantity=quantity,
                                    reason=item.reason,
                                    condition=None if estimate else item.condition))
            continue
        if priced is None:
            priced = units_priced_before(ret)
        lines.append(RefundLine(
            unit_price=line.unit_price, quantity=quantity, reason=item.reason,
            condition=None if estimate else item.condition, line_quantity=line.quantity,
            discount=line.discount or 0, taxes=taxes_of(line.tax_lines),
            before=priced.get(line.id, 0)))
    return lines


# Units of each line priced by the order's other returns (those settled: their breakdown
# stored), received or, kept items, asked for. Built once.
_PRICED = (select(ReturnItem.order_line_id,
                  func.sum(func.coalesce(ReturnItem.received_quantity, ReturnItem.quantity)))
           .join(Return, Return.id == ReturnItem.return_id)
           .where(Return.order_id == bindparam("order_id"), Return.id != bindparam("ret_id"),
                  Return.refund_amount.is_not(None))
           .group_by(ReturnItem.order_line_id))


def units_priced_before(ret: Return) -> dict[int, int]:
    """Where this return's share of each line starts (calculator.line_share): the units the
    order's other settled returns have priced. Settling happens under the order's lock, so
    the returns of one order are priced one after another and their shares add up to at
    most what each line was paid."""
    rows = db.session.execute(_PRICED, {"order_id": ret.order_id, "ret_id": ret.id or 0})
    return {line_id: int(units or 0) for line_id, units in rows}
