"""How much to refund for a return: pure functions of the policy, what was paid and what
came back.

A line is refunded at what was paid for it: unit price x quantity, less the discount
allocated to it, plus the tax added on top (a VAT-inclusive price already holds its tax).
Part of a line takes its exact share, counted cumulatively (`line_share`): the units
returned before decide where this return's share starts, so the last unit absorbs the
rounding and every unit returned, in any number of returns, refunds exactly what was paid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from returns_service.returns.policy import ReturnPolicy


@dataclass(frozen=True)
class TaxLine:
    """One tax on a line or on shipping: `amount` minor units at `rate` percent, added on
    top of the price or (`included`) contained in it."""

    rate: str
    amount: int
    name: str = ""
    included: bool = False


@dataclass(frozen=True)
class RefundLine:
    unit_price: int
    quantity: int  # received quantity (or requested, for an estimate)
    reason: str
    condition: str | None = None  # None: not inspected yet, counted as refundable
    # What the order says of the whole line; None: unit price x quantity, no tax, no discount.
    line_quantity: int | None = None
    discount: int = 0  # allocated to the whole line
    taxes: tuple[TaxLine, ...] = ()
    before: int = 0  # units of the line priced by earlier returns


@dataclass(frozen=True)
class RefundBreakdown:
    items_amount: int  # what was paid for the items: list price - discount + tax added
    restocking_fee: int
    shipping_amount: int  # with its tax
    total: int
    capped: bool  # True when the order's remaining refundable amount limited the total
    adjustments: int = 0  # agents' goodwill (+) and deductions (negative), net
    return_shipping_fee: int = 0  # the policy's fee for the return parcel, off the total
    list_amount: int = 0  # unit price x quantity
    discount: int = 0  # the items' share of the discounts
    tax: int = 0  # tax added on top of the items' prices (in items_amount)
    tax_included: int = 0  # VAT contained in the items' prices (in items_amount)
    shipping_tax: int = 0  # tax in shipping_amount
    taxes: dict[str, int] = field(default_factory=dict)  # rate -> tax refunded, all kinds

    def as_dict(self) -> dict[str, int | bool]:
        return {"items": self.items_amount, "restocking_fee": self.restocking_fee,
                "shipping": self.shipping_amount, "adjustments": self.adjustments,
                "total": self.total, "capped": self.capped, "list_price": self.list_amount,
                "discount": self.discount, "tax_added": self.tax,
                "tax": self.tax + self.tax_included + self.shipping_tax}


def line_paid(unit_price: int, quantity: int, discount: int = 0,
              taxes: Iterable[TaxLine] = ()) -> int:
    """What the customer paid for a whole line."""
    return unit_price * quantity - discount + sum(t.amount for t in taxes if not t.included)


def line_share(amount: int, line_quantity: int, before: int, quantity: int) -> int:
    """The share of `amount` (a whole line's) for `quantity` units when `before` units were
    priced already: floor(amount x (before + quantity) / line_quantity) - floor(amount x
    before / line_quantity). Shares of consecutive returns add up to at most `amount`, and
    to exactly it once every unit is counted."""
    if line_quantity <= 0 or quantity <= 0:
        return 0
    before = max(0, min(before, line_quantity))
    upto = min(line_quantity, before + quantity)
    return amount * upto // line_quantity - amount * before // line_quantity


@dataclass(frozen=True)
class LineAmounts:
    paid: int
    list_amount: int
    discount: int
    tax: int
    tax_included: int
    taxes: dict[str, int]


def line_amounts(line: RefundLine) -> LineAmounts:
    """The refundable amounts of `line.quantity` units of a line."""
    if line.line_quantity is None:
        amount = line.unit_price * line.quantity
        return LineAmounts(amount, amount, 0, 0, 0, {})
    total_q, before, q = line.line_quantity, line.before, line.quantity
    paid = line_share(line_paid(line.unit_price, total_q, line.discount, line.taxes),
                      total_q, before, q)
    taxes: dict[str, int] = {}
    tax = included = 0
    for t in line.taxes:
        share = line_share(t.amount, total_q, before, q)
        taxes[t.rate] = taxes.get(t.rate, 0) + share
        if t.included:
            included += share
        else:
            tax += share
    list_amount = line.unit_price * max(0, min(q, total_q - max(0, before)))
    # Derived, so that list price - discount + tax = paid on every breakdown.
    return LineAmounts(paid, list_amount, list_amount + tax - paid, tax, included, taxes)


def compute_refund(policy: ReturnPolicy, lines: Iterable[RefundLine], *, shipping_total: int,
                   shipping_already_refunded: bool, remaining_refundable: int,
                   step: int = 1, adjustments: int = 0,
                   shipping_taxes: Iterable[TaxLine] = ()) -> RefundBreakdown:
    """Items refunded at what was paid for them, minus the fee for customer-side reasons
    (on the line's refundable gross), plus shipping with its tax when the merchant was at
    fault, plus the agents' adjustments, never below zero nor more than what the order
    still has refundable.

    `step` (money.refund_step): the total is a whole number of steps, the fee rounded down
    to one in the customer's favour."""
    items = fee = list_amount = discount = tax = included = 0
    taxes: dict[str, int] = {}
    merchant_fault = False
    pct = policy.restocking_fee_percent
    for line in lines:
        if line.condition is not None and line.condition not in policy.refundable_conditions:
            continue
        amounts = line_amounts(line)
        amount = amounts.paid
        if amount <= 0:
            continue
        items += amount
        list_amount += amounts.list_amount
        discount += amounts.discount
        tax += amounts.tax
        included += amounts.tax_included
        for rate, value in amounts.taxes.items():
            taxes[rate] = taxes.get(rate, 0) + value
        reason = policy.reason(line.reason)
        if reason is not None and reason.merchant_fault:
            merchant_fault = True
        elif pct:
            fee += int((Decimal(amount) * pct / 100).quantize(Decimal(1), ROUND_HALF_UP))
    fee -= fee % step
    shipping = shipping_tax = 0
    if merchant_fault and items and not shipping_already_refunded:
        shipping_taxes = tuple(shipping_taxes)
        shipping_tax = sum(t.amount for t in shipping_taxes)
        shipping = shipping_total + sum(t.amount for t in shipping_taxes if not t.included)
        for t in shipping_taxes:
            taxes[t.rate] = taxes.get(t.rate, 0) + t.amount
    uncapped = max(0, items - fee + shipping + adjustments)
    total = max(0, min(uncapped, remaining_refundable))
    capped = total < uncapped
    return RefundBreakdown(items, fee, shipping, total - total % step, capped=capped,
                           adjustments=adjustments, list_amount=list_amount,
                           discount=discount, tax=tax, tax_included=included,
                           shipping_tax=shipping_tax,
                           taxes={rate: value for rate, value in taxes.items() if value})
