"""What the returned line is worth in an exchange: the one place that prices it.

The original is valued at what a refund of it would pay for its items (refunds' pricing, no
shipping, no restocking fee: the sale is kept), the new variant at its catalog price. Change
how a line's refundable amount is computed and this is the only function to follow."""

from __future__ import annotations

from returns_service.refunds.calculator import RefundLine, compute_refund
from returns_service.returns.models import ReturnItem
from returns_service.returns.services import current_policy


def original_value(item: ReturnItem, quantity: int) -> int:
    """`quantity` of the item's order line, at the refundable amount of the line."""
    line = item.order_line
    amount = line.unit_price * quantity
    breakdown = compute_refund(
        current_policy(), [RefundLine(unit_price=line.unit_price, quantity=quantity,
                                      reason=item.reason)],
        shipping_total=0, shipping_already_refunded=True, remaining_refundable=amount)
    return breakdown.items_amount


def difference(item: ReturnItem, quantity: int, new_unit_price: int) -> tuple[int, int]:
    """(original value, new price - original value): positive, the customer pays it."""
    value = original_value(item, quantity)
    return value, new_unit_price * quantity - value
