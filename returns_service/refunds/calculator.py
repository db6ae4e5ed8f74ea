"""How much to refund for a return: a pure function of the policy and what came back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from returns_service.returns.policy import ReturnPolicy


@dataclass(frozen=True)
class RefundLine:
    unit_price: int
    quantity: int  # received quantity (or requested, for an estimate)
    reason: str
    condition: str | None = None  # None: not inspected yet, counted as refundable


@dataclass(frozen=True)
class RefundBreakdown:
    items_amount: int
    restocking_fee: int
    shipping_amount: int
    total: int
    capped: bool  # True when the order's remaining refundable amount limited the total
    adjustments: int = 0  # agents' goodwill (+) and deductions (negative), net
    return_shipping_fee: int = 0  # the policy's fee for the return parcel, off the total

    def as_dict(self) -> dict[str, int | bool]:
        return {"items": self.items_amount, "restocking_fee": self.restocking_fee,
                "shipping": self.shipping_amount, "adjustments": self.adjustments,
                "total": self.total, "capped": self.capped}


def compute_refund(policy: ReturnPolicy, lines: Iterable[RefundLine], *, shipping_total: int,
                   shipping_already_refunded: bool, remaining_refundable: int,
                   step: int = 1, adjustments: int = 0) -> RefundBreakdown:
    """Items refunded at unit price, minus the fee for customer-side reasons, plus shipping
    when the merchant was at fault, plus the agents' adjustments, never below zero nor more
    than what the order still has refundable.

    `step` (money.refund_step): the total is a whole number of steps, the fee rounded down
    to one in the customer's favour."""
    items = fee = 0
    merchant_fault = False
    pct = policy.restocking_fee_percent
    for line in lines:
        if line.condition is not None and line.condition not in policy.refundable_conditions:
            continue
        amount = line.unit_price * line.quantity
        if amount <= 0:
            continue
        items += amount
        reason = policy.reason(line.reason)
        if reason is not None and reason.merchant_fault:
            merchant_fault = True
        elif pct:
            fee += int((Decimal(amount) * pct / 100).quantize(Decimal(1), ROUND_HALF_UP))
    fee -= fee % step
    shipping = shipping_total if merchant_fault and items and not shipping_already_refunded else 0
    uncapped = max(0, items - fee + shipping + adjustments)
    total = max(0, min(uncapped, remaining_refundable))
    capped = total < uncapped
    return RefundBreakdown(items, fee, shipping, total - total % step, capped=capped,
                           adjustments=adjustments)
