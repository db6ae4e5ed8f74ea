"""How much is refunded: the calculator's rules as a table, and the amounts the API shows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from returns_service.refunds.calculator import RefundLine, compute_refund
from returns_service.returns.policy import ReturnPolicy

DEFAULT = ReturnPolicy()
FEE_10 = ReturnPolicy(restocking_fee_percent=Decimal(10))
FEE_12_5 = ReturnPolicy(restocking_fee_percent=Decimal("12.5"))
WRONG_ITEM_REFUNDED = ReturnPolicy(
    refundable_conditions=frozenset({"resellable", "damaged", "wrong_item"}))


def line(price: int, qty: int, reason: str = "doesnt_fit",
         condition: str | None = "resellable") -> RefundLine:
    return RefundLine(unit_price=price, quantity=qty, reason=reason, condition=condition)


# policy, lines, shipping_total, shipping_already_refunded, remaining, expected
# (items, fee, shipping, total, capped)
CASES = {
    "customer reason, no fee": (
        DEFAULT, [line(2500, 2)], 500, False, 15000, (5000, 0, 0, 5000, False)),
    "restocking fee on customer reason": (
        FEE_10, [line(2500, 2)], 500, False, 15000, (5000, 500, 0, 4500, False)),
    "merchant fault: no fee, shipping back": (
        FEE_10, [line(8000, 1, "damaged", "damaged")], 500, False, 15000,
        (8000, 0, 500, 8500, False)),
    "mixed reasons: fee only on the customer's line, shipping back": (
        FEE_10, [line(2500, 1), line(8000, 1, "defective", "damaged")], 500, False, 15000,
        (10500, 250, 500, 10750, False)),
    "wrong item received is not refunded by default": (
        DEFAULT, [line(2500, 1, condition="wrong_item")], 500, False, 15000,
        (0, 0, 0, 0, False)),
    "missing item is not refunded": (
        DEFAULT, [line(2500, 1, "damaged", condition="missing")], 500, False, 15000,
        (0, 0, 0, 0, False)),
    "policy may refund a wrong item": (
        WRONG_ITEM_REFUNDED, [line(2500, 1, condition="wrong_item")], 500, False, 15000,
        (2500, 0, 0, 2500, False)),
    "only what was received counts": (
        DEFAULT, [line(2500, 1), line(8000, 0, condition="missing")], 500, False, 15000,
        (2500, 0, 0, 2500, False)),
    "shipping refunded once per order": (
        DEFAULT, [line(8000, 1, "damaged", "damaged")], 500, True, 15000,
        (8000, 0, 0, 8000, False)),
    "no shipping when no merchant-fault item is refunded": (
        DEFAULT, [line(8000, 1, "damaged", "missing"), line(2500, 1)], 500, False, 15000,
        (2500, 0, 0, 2500, False)),
    "capped by what the order still has refundable": (
        DEFAULT, [line(8000, 1, "damaged", "damaged")], 500, False, 6000,
        (8000, 0, 500, 6000, True)),
    "nothing left to refund": (
        DEFAULT, [line(2500, 1)], 500, False, 0, (2500, 0, 0, 0, True)),
    "fee rounds half up to the minor unit": (
        FEE_12_5, [line(1004, 1)], 0, False, 15000, (1004, 126, 0, 878, False)),
    "unknown reason pays the fee": (
        FEE_10, [line(1000, 1, "mystery")], 0, False, 15000, (1000, 100, 0, 900, False)),
}


# Stripe takes three-decimal currencies (KWD…) only in tens: step 10.
STEPPED = {
    "fee rounded down to a step, in the customer's favour": (
        FEE_12_5, [line(12350, 1)], 0, 15000, (12350, 1540, 0, 10810, False)),
    "a line price off the step: the total rounds down to one": (
        DEFAULT, [line(12345, 1)], 0, 15000, (12345, 0, 0, 12340, False)),
    "a cap off the step rounds down too": (
        DEFAULT, [line(8000, 1)], 0, 7995, (8000, 0, 0, 7990, True)),
}


@pytest.mark.parametrize("case", STEPPED.values(), ids=STEPPED.keys())
def test_compute_refund_in_steps(case):
    policy, lines, shipping, remaining, expected = case
    result = compute_refund(policy, lines, shipping_total=shipping,
                            shipping_already_refunded=False, remaining_refundable=remaining,
                            step=10)
    assert (result.items_amount, result.restocking_fee, result.shipping_amount, result.total,
            result.capped) == expected


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_compute_refund(case):
    policy, lines, shipping, shipped_back, remaining, expected = case
    result = compute_refund(policy, lines, shipping_total=shipping,
                            shipping_already_refunded=shipped_back,
                            remaining_refundable=remaining)
    assert (result.items_amount, result.restocking_fee, result.shipping_amount, result.total,
            result.capped) == expected


# --- through the API (no Stripe key: refunds stay pending, the amounts are what matter) ---

def _received(api: Any, make_order: Any, items: list[dict[str, Any]],
              received: list[dict[str, Any]], *, order: bool = True) -> dict[str, Any]:
    if order:
        make_order("A1001")
    created = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com", "items": items})
    assert created.status_code == 201, created.json
    rma = created.json["rma"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    response = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse",
                        json={"items": received})
    assert response.status_code == 200, response.json
    return response.json


def test_breakdown_is_stored_and_shown(api, make_order):
    shown = _received(api, make_order,
                      [{"sku": "SHIRT", "quantity": 2, "reason": "doesnt_fit"},
                       {"sku": "JEANS", "quantity": 1, "reason": "defective"}],
                      [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"},
                       {"sku": "JEANS", "quantity": 1, "condition": "damaged"}])
    assert shown["status"] == "refund_pending"
    assert shown["expected_refund"]["total"] == 13500  # what was asked for
    assert shown["refund"] == {"items": 10500, "restocking_fee": 0, "shipping": 500,
                               "adjustments": 0, "total": 11000, "list_price": 10500,
                               "discount": 0, "tax": 0, "tax_added": 0}
    assert [(r["amount"], r["status"], r["attempt"]) for r in shown["refunds"]] == [
        (11000, "pending", 1)]


def test_parcel_with_nothing_refundable_closes_the_return(api, make_order):
    shown = _received(api, make_order, [{"sku": "SHIRT", "quantity": 1, "reason": "damaged"}],
                      [{"sku": "SHIRT", "quantity": 1, "condition": "wrong_item"}])
    assert shown["status"] == "closed"
    assert shown["refund"]["total"] == 0
    assert shown["refunds"] == []


def test_shipping_is_refunded_once_across_returns(api, make_order):
    first = _received(api, make_order, [{"sku": "SHIRT", "quantity": 1, "reason": "damaged"}],
                      [{"sku": "SHIRT", "quantity": 1, "condition": "damaged"}])
    second = _received(api, make_order, [{"sku": "JEANS", "quantity": 1, "reason": "damaged"}],
                       [{"sku": "JEANS", "quantity": 1, "condition": "damaged"}], order=False)
    assert first["refund"]["shipping"] == 500 and first["refund"]["total"] == 3000
    assert second["refund"]["shipping"] == 0 and second["refund"]["total"] == 8000


def test_refund_is_capped_by_what_other_refunds_left(app, api, make_order):
    from returns_service.db import db
    from returns_service.refunds.models import Refund

    make_order("A1001")
    with app.app_context():  # 12,000 already refunded on this payment in the dashboard
        db.session.add(Refund(return_id=None, amount=12000, currency="EUR",
                              status="succeeded", origin="external",
                              payment_intent="pi_test_A1001", idempotency_key="external-re_1",
                              provider_refund_id="re_1"))
        db.session.commit()
    shown = _received(api, make_order, [{"sku": "JEANS", "quantity": 1, "reason": "damaged"}],
                      [{"sku": "JEANS", "quantity": 1, "condition": "damaged"}], order=False)
    # The order total is 15,000 (lines 14,500 + shipping 500): 3,000 is left.
    assert shown["refund"]["total"] == 3000
    assert shown["refunds"][0]["amount"] == 3000


def test_three_decimal_refunds_are_whole_tens_as_stripe_takes_them(api, make_order):
    make_order("A1001", currency="KWD", shipping_total=0, lines=[
        {"sku": "SHIRT", "name": "Shirt", "quantity": 1, "unit_price": 12345}])
    shown = _received(api, make_order, [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}],
                      [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}], order=False)
    assert shown["refund"]["total"] == 12340  # 12.340 KWD, not 12.345
    assert shown["refunds"][0]["amount"] == 12340
