"""The calculator refunds what was paid: worked examples (the same as on the docs page "How
refunds are calculated") and a property over any sequence of partial returns."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from returns_service.common.money import allocate, refund_step
from returns_service.refunds.calculator import (
    RefundLine,
    TaxLine,
    compute_refund,
    line_paid,
    line_share,
)
from returns_service.refunds.split import Payment, split_refund
from returns_service.returns.policy import ReturnPolicy

NO_FEE = ReturnPolicy()
FEE_10 = ReturnPolicy(restocking_fee_percent=Decimal(10))


def refund(lines: list[RefundLine], *, policy: ReturnPolicy = NO_FEE, shipping: int = 0,
           shipping_taxes: tuple[TaxLine, ...] = (), currency: str = "EUR",
           shipped: bool = False, remaining: int = 10**12) -> dict[str, object]:
    result = compute_refund(policy, lines, shipping_total=shipping,
                            shipping_already_refunded=shipped, remaining_refundable=remaining,
                            step=refund_step(currency), shipping_taxes=shipping_taxes)
    return {**result.as_dict(), "taxes": result.taxes}


US_TAX = (TaxLine("8.875", 888, "NY sales tax"),)
EU_VAT = (TaxLine("20", 1200, "VAT", included=True),)
JP_TAX = (TaxLine("10", 540, "Consumption tax", included=True),)
DISCOUNTED = [(1000, 1, 200), (2500, 2, 1000), (333, 3, 200)]  # unit, quantity, discount


def us(quantity: int, before: int = 0, reason: str = "doesnt_fit") -> RefundLine:
    return RefundLine(5000, quantity, reason, line_quantity=2, taxes=US_TAX, before=before)


def eu(quantity: int, before: int = 0, reason: str = "doesnt_fit") -> RefundLine:
    return RefundLine(2400, quantity, reason, line_quantity=3, taxes=EU_VAT, before=before)


def third_line(quantity: int, before: int) -> RefundLine:
    unit, line_quantity, discount = DISCOUNTED[2]
    return RefundLine(unit, quantity, "doesnt_fit", line_quantity=line_quantity,
                      discount=discount, before=before)


def jpy(quantity: int, before: int) -> RefundLine:
    return RefundLine(1980, quantity, "doesnt_fit", line_quantity=3, discount=500,
                      taxes=JP_TAX, before=before)


# (case, refund(...) call, expected figures)
WORKED = [
    ("US sales tax, one of two", lambda: refund([us(1)]),
     {"items": 5444, "list_price": 5000, "tax_added": 444, "tax": 444, "total": 5444}),
    ("US sales tax, the second of two", lambda: refund([us(1, before=1)]),
     {"items": 5444, "total": 5444}),
    ("US sales tax, both, damaged: shipping too", lambda: refund([us(2, reason="damaged")],
                                                                 shipping=1000),
     {"items": 10888, "shipping": 1000, "total": 11888, "taxes": {"8.875": 888}}),
    ("EU VAT included, one of three", lambda: refund([eu(1)]),
     {"items": 2400, "list_price": 2400, "tax_added": 0, "tax": 400, "total": 2400,
      "taxes": {"20": 400}}),
    ("EU VAT, damaged: shipping with its VAT", lambda: refund(
        [eu(1, reason="damaged")], shipping=500,
        shipping_taxes=(TaxLine("20", 83, "VAT", included=True),)),
     {"items": 2400, "shipping": 500, "tax": 483, "total": 2900, "taxes": {"20": 483}}),
    ("EU VAT, 10 % restocking fee on the gross", lambda: refund([eu(1)], policy=FEE_10),
     {"items": 2400, "restocking_fee": 240, "total": 2160}),
    ("20 % discount: first unit of the third line", lambda: refund([third_line(1, 0)]),
     {"items": 266, "list_price": 333, "discount": 67, "total": 266}),
    ("20 % discount: second unit", lambda: refund([third_line(1, 1)]),
     {"items": 266, "discount": 67, "total": 266}),
    ("20 % discount: the last unit absorbs the rounding", lambda: refund([third_line(1, 2)]),
     {"items": 267, "discount": 66, "total": 267}),
    ("free shipping, damaged: nothing to add for shipping", lambda: refund(
        [RefundLine(4000, 1, "damaged", line_quantity=1)], shipping=0),
     {"items": 4000, "shipping": 0, "total": 4000}),
    ("JPY, discount and included tax, first unit", lambda: refund([jpy(1, 0)],
                                                                 currency="JPY"),
     {"items": 1813, "tax": 180, "total": 1813}),
    ("JPY, the last unit", lambda: refund([jpy(1, 2)], currency="JPY"),
     {"items": 1814, "total": 1814}),
    ("KWD, fee rounded down to whole 10s, total to 10s", lambda: refund(
        [RefundLine(12345, 1, "doesnt_fit", line_quantity=1)], policy=FEE_10,
        currency="KWD"),
     {"items": 12345, "restocking_fee": 1230, "total": 11110}),
]


@pytest.mark.parametrize(("case", "compute", "expected"), WORKED, ids=[w[0] for w in WORKED])
def test_worked_examples(case: str, compute: object, expected: dict[str, object]) -> None:
    result = compute()  # type: ignore[operator]
    assert {key: result[key] for key in expected} == expected, case


def test_breakdown_adds_up_list_price_less_discount_plus_tax_added() -> None:
    result = refund([third_line(2, 0), us(1), jpy(1, 1)])
    assert result["list_price"] - result["discount"] + result["tax_added"] == result["items"]


def test_the_twenty_percent_discount_is_allocated_by_largest_remainder() -> None:
    weights = [unit * quantity for unit, quantity, _ in DISCOUNTED]
    assert allocate(1400, weights) == [d for _, _, d in DISCOUNTED]
    assert sum(allocate(1400, weights)) == 1400


@pytest.mark.parametrize(("strategy", "parts"), [
    ("card_first", [5000, 0]), ("gift_card_first", [2000, 3000]),
    ("proportional", [3500, 1500])])
def test_gift_card_and_card_split(strategy: str, parts: list[int]) -> None:
    payments = [Payment("stripe", 7000, 7000), Payment("gift_card", 3000, 3000)]
    assert split_refund(5000, payments, strategy) == parts


def test_a_payment_never_takes_back_more_than_it_has_left() -> None:
    payments = [Payment("stripe", 7000, 1000), Payment("gift_card", 3000, 3000)]
    assert split_refund(4000, payments, "card_first") == [1000, 3000]
    with pytest.raises(ValueError):
        split_refund(4001, payments, "card_first")


def test_kwd_card_part_stays_in_whole_tens() -> None:
    payments = [Payment("stripe", 7005, 7005), Payment("gift_card", 3000, 3000)]
    parts = split_refund(5005, payments, "proportional", step=10)
    assert sum(parts) == 5005 and parts[0] % 10 == 0


# --- the property ---------------------------------------------------------------------------

taxes = st.lists(st.builds(TaxLine, rate=st.sampled_from(["5", "8.875", "20"]),
                           amount=st.integers(0, 5000), included=st.booleans()), max_size=2)


@st.composite
def orders(draw: st.DrawFn) -> tuple[list[dict[str, object]], int, tuple[TaxLine, ...]]:
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        unit, quantity = draw(st.integers(0, 100_000)), draw(st.integers(1, 7))
        lines.append({"unit": unit, "quantity": quantity,
                      "discount": draw(st.integers(0, unit * quantity)),
                      "taxes": tuple(draw(taxes))})
    return lines, draw(st.integers(0, 3000)), tuple(draw(taxes))


@st.composite
def returns_of(draw: st.DrawFn, lines: list[dict[str, object]]) -> list[list[tuple[int, int, str]]]:
    """Every unit split into returns: per return, (line index, quantity, reason)."""
    left = [int(line["quantity"]) for line in lines]  # type: ignore[call-overload]
    returns = []
    while any(left):
        items = []
        first = next(index for index, quantity in enumerate(left) if quantity)
        for index, quantity in enumerate(left):
            take = draw(st.integers(1 if index == first else 0, quantity))
            if take:
                items.append((index, take, draw(st.sampled_from(["damaged", "doesnt_fit"]))))
                left[index] -= take
        returns.append(items)
    return returns


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_partial_returns_never_refund_more_than_was_paid(data: st.DataObject) -> None:
    lines, shipping, shipping_taxes = data.draw(orders())
    returns = data.draw(returns_of(lines))
    stop = data.draw(st.integers(1, len(returns)))  # some returns, or all of them
    paid_items = sum(line_paid(x["unit"], x["quantity"], x["discount"], x["taxes"])  # type: ignore[arg-type]
                     for x in lines)
    shipping_paid = shipping + sum(t.amount for t in shipping_taxes if not t.included)
    total_paid = paid_items + shipping_paid
    before = [0] * len(lines)
    refunded, shipped, merchant_fault = 0, False, False
    for items in returns[:stop]:
        result = compute_refund(
            NO_FEE, [RefundLine(lines[i]["unit"], q, reason,  # type: ignore[arg-type]
                                line_quantity=lines[i]["quantity"],  # type: ignore[arg-type]
                                discount=lines[i]["discount"],  # type: ignore[arg-type]
                                taxes=lines[i]["taxes"], before=before[i])  # type: ignore[arg-type]
                     for i, q, reason in items],
            shipping_total=shipping, shipping_already_refunded=shipped,
            remaining_refundable=total_paid - refunded, shipping_taxes=shipping_taxes)
        assert not result.capped  # shares alone never reach past what was paid
        refunded += result.total
        shipped = shipped or result.shipping_amount > 0
        merchant_fault = merchant_fault or result.shipping_amount > 0
        for i, q, _ in items:
            before[i] += q
    assert refunded <= total_paid
    if stop == len(returns):
        assert refunded == paid_items + (shipping_paid if merchant_fault else 0)


@given(amount=st.integers(0, 10**9), quantity=st.integers(1, 50), data=st.data())
def test_line_shares_add_up_to_the_line(amount: int, quantity: int,
                                       data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(1, quantity - 1), max_size=5,
                                     unique=True)) if quantity > 1 else [])
    bounds = [0, *cuts, quantity]
    shares = [line_share(amount, quantity, a, b - a) for a, b in pairwise(bounds)]
    assert sum(shares) == amount and all(s >= 0 for s in shares)
