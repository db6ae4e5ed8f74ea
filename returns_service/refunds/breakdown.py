"""The refund a return is owed: what arrived (or, for an estimate, what was asked for), priced
by the policy (calculator.py) and capped by what the order still has refundable."""

from __future__ import annotations

from returns_service.common.money import refund_step
from returns_service.refunds.amounts import OrderFigures, order_figures
from returns_service.refunds.calculator import RefundBreakdown, RefundLine, compute_refund
from returns_service.refunds.signals import exchanged_items
from returns_service.returns.models import Return
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
    if siblings is not None:
        others = [v for rid, v in siblings.items() if rid != ret.id]
        return compute_refund(
            current_policy(), _refund_lines(ret, estimate), shipping_total=order.shipping_total,
            shipping_already_refunded=any(shipped for _, shipped in others),
            remaining_refundable=order.total - sum(amount for amount, _ in others),
            step=refund_step(order.currency), adjustments=ret.adjustment_amount or 0)
    if figures is None:
        figures = order_figures(order, exclude_return_id=ret.id)
    # The order's total from the figures' statement: its lines need not be loaded.
    total = figures.lines_total + order.shipping_total
    return compute_refund(
        current_policy(), _refund_lines(ret, estimate), shipping_total=order.shipping_total,
        shipping_already_refunded=figures.shipping_claimed,
        remaining_refundable=total - figures.refunded, step=refund_step(order.currency),
        adjustments=ret.adjustment_amount or 0)


def _refund_lines(ret: Return, estimate: bool) -> list[RefundLine]:
    # An exchanged line is made good with the new item: refunded only what a cheaper
    # variant leaves owed, as one amount (the exchange priced it once, when requested).
    exchanged = exchanged_items(ret) if ret.id is not None else {}
    lines = []
    for item in ret.items:
        condition = None if estimate else item.condition
        if item.id in exchanged:
            if exchanged[item.id] > 0:
                lines.append(RefundLine(unit_price=exchanged[item.id], quantity=1,
                                        reason=item.reason, condition=condition))
            continue
        lines.append(RefundLine(
            unit_price=item.order_line.unit_price,
            quantity=item.quantity if estimate else (item.received_quantity or 0),
            reason=item.reason, condition=condition))
    return lines
