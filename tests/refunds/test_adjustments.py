"""Agents' adjustments: goodwill or a deduction with a reason, shown line by line, capped by
role and by what the order has left, audited, and paid exactly as adjusted."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("resolutions_config")

JEANS = [{"sku": "JEANS", "quantity": 1, "reason": "doesnt_fit"}]


@pytest.fixture
def rma(api: Any, make_order: Any) -> str:
    make_order()
    response = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com", "items": JEANS})
    return response.json["rma"]


def adjust(api: Any, rma: str, as_: str = "agent", **body: Any) -> Any:
    return api.post(f"/api/v1/returns/{rma}/adjustments", as_=as_,
                    json={"kind": "goodwill", "reason": "goodwill", **body})


def test_goodwill_adds_to_the_payout_and_the_refund_pays_it(api, rma):
    response = adjust(api, rma, amount=1500, note="Late delivery, sorry")
    assert response.status_code == 200, response.json
    assert response.json["expected_refund"]["adjustments"] == 1500
    assert response.json["expected_refund"]["total"] == 8000 + 1500
    deducted = adjust(api, rma, kind="deduction", reason="used", amount=500)
    assert deducted.json["expected_refund"]["total"] == 8000 + 1500 - 500
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    received = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "JEANS", "quantity": 1, "condition": "resellable"}]}).json
    assert received["refund"]["adjustments"] == 1000
    assert [r["amount"] for r in received["refunds"]] == [9000]
    events = api.get(f"/api/v1/returns/{rma}/events", as_="agent").json
    audit = [(e["actor_label"], e["data"]["amount"], e["data"]["reason"], e["note"])
             for e in events if e["kind"] == "adjustment"]
    assert audit == [("agent@shop.test", 1500, "goodwill", "Late delivery, sorry"),
                     ("agent@shop.test", -500, "used", None)]
    assert all(not e["customer_visible"] for e in events if e["kind"] == "adjustment")


def test_agents_adjust_up_to_their_limit_admins_above_it(api, rma):
    over = adjust(api, rma, amount=2001)
    assert over.status_code == 403 and "need an admin" in over.json["detail"]
    assert adjust(api, rma, kind="deduction", reason="used", amount=2001).status_code == 403
    assert adjust(api, rma, as_="admin", amount=2001).status_code == 200
    assert adjust(api, rma, as_="warehouse", amount=100).status_code == 403  # not their job


def test_the_payout_never_exceeds_what_the_order_has_left(api, rma):
    # Order: shirts 2 x €25, jeans €80, socks 3 x €5, €5 shipping = €150; jeans estimate €80.
    too_much = adjust(api, rma, as_="admin", amount=7001)
    assert too_much.status_code == 422
    assert too_much.json["errors"]["amount"] == [
        "At most €70.00 can be added: the order has €150.00 left to refund."]
    assert adjust(api, rma, as_="admin", amount=7000).status_code == 200


def test_a_deduction_cannot_take_the_payout_below_zero(api, rma):
    response = adjust(api, rma, as_="admin", kind="deduction", reason="used", amount=8001)
    assert response.status_code == 422
    assert response.json["errors"]["amount"] == [
        "At most €80.00 can be deducted: the payout cannot go below zero."]


@pytest.mark.parametrize(("body", "field"), [
    ({"reason": "not-a-reason"}, "reason"),
    ({"kind": "deduction", "reason": "goodwill"}, "reason"),  # a goodwill code as deduction
    ({"amount": 0}, "amount"),
])
def test_bad_adjustments_are_refused_with_the_field(api, rma, body, field):
    response = adjust(api, rma, **{"amount": 100, **body})
    assert response.status_code == 422 and field in response.json["errors"]


def test_no_adjustment_once_the_refund_has_started(api, rma):
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "JEANS", "quantity": 1, "condition": "resellable"}]})
    late = adjust(api, rma, amount=100)
    assert late.status_code == 409 and "can no longer be adjusted" in late.json["detail"]
