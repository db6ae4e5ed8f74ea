"""Store credit instead of a refund: the customer's choice, issued once at receipt with its
bonus, counted against the order, and told to the customer with its code."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from returns_service.credits.models import CreditCode, CreditEntry
from returns_service.db import db
from returns_service.notifications.models import Notification
from returns_service.refunds.models import Refund

pytestmark = pytest.mark.usefixtures("resolutions_config")

SHIRT = [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]
JEANS = [{"sku": "JEANS", "quantity": 1, "reason": "doesnt_fit"}]


def ask(api: Any, items: list[dict[str, Any]], resolution: str | None = None,
        number: str = "A1001") -> Any:
    body: dict[str, Any] = {"order_number": number, "email": "jane@example.com",
                            "items": items}
    if resolution:
        body["resolution"] = resolution
    return api.post("/api/v1/returns", json=body)


def approve_and_receive(api: Any, rma: str, sku: str = "SHIRT") -> Any:
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    return api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": sku, "quantity": 1, "condition": "resellable"}]})


def test_the_answer_offers_credit_with_its_bonus_beside_the_refund(api, make_order):
    make_order()
    shown = ask(api, SHIRT).json
    assert shown["resolution"] == "refund"
    assert shown["expected_refund"]["total"] == 2500
    assert shown["store_credit"] == {"amount": 2500, "bonus": 250, "total": 2750}


def test_credit_is_issued_once_at_receipt_with_its_bonus(app, api, make_order):
    make_order()
    rma = ask(api, SHIRT, "store_credit").json["rma"]
    response = approve_and_receive(api, rma)
    assert response.status_code == 200, response.json
    shown = response.json
    assert shown["status"] == "credited" and shown["refunds"] == []
    assert shown["refund"]["total"] == 2500
    assert shown["store_credit"] == {"amount": 2500, "bonus": 250, "total": 2750}
    with app.app_context():
        code = db.session.scalars(select(CreditCode)).one()
        kinds = sorted((e.kind, e.amount) for e in db.session.scalars(select(CreditEntry)))
        emails = {n.step: n for n in db.session.scalars(select(Notification))}
        assert db.session.scalar(select(func.count(Refund.id))) == 0  # Stripe untouched
    assert (code.email, code.currency) == ("jane@example.com", "EUR")
    assert kinds == [("bonus", 250), ("issue", 2500)]
    assert "credited" in emails and emails["credited"].subject.startswith("Your store credit")
    # Receiving again is refused: the credit exists once.
    again = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]})
    assert again.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count(CreditEntry.id))) == 2


def test_credit_counts_against_what_the_order_can_still_refund(api, make_order):
    make_order(lines=[{"sku": "SHIRT", "name": "Shirt", "quantity": 2, "unit_price": 2500}],
               shipping_total=0)
    first = ask(api, [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}],
                "store_credit").json["rma"]
    assert approve_and_receive(api, first).json["status"] == "credited"
    second = ask(api, [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]).json
    # €50 paid, €25 credited: the second shirt still refunds €25, and nothing more.
    assert second["expected_refund"]["total"] == 2500
    assert api.post(f"/api/v1/returns/{second['rma']}/adjustments", as_="admin", json={
        "kind": "goodwill", "amount": 1, "reason": "goodwill"}).status_code == 422


def test_the_choice_can_change_until_the_payout_starts(api, make_order):
    make_order()
    rma = ask(api, SHIRT).json["rma"]
    changed = api.post(f"/api/v1/returns/{rma}/resolution", as_="agent",
                       json={"resolution": "store_credit"})
    assert changed.status_code == 200 and changed.json["resolution"] == "store_credit"
    events = api.get(f"/api/v1/returns/{rma}/events", as_="agent").json
    assert [e["data"] for e in events if e["kind"] == "resolution"] == [
        {"from": "refund", "to": "store_credit"}]
    assert approve_and_receive(api, rma).json["status"] == "credited"
    late = api.post(f"/api/v1/returns/{rma}/resolution", as_="agent",
                    json={"resolution": "refund"})
    assert late.status_code == 409 and "can no longer be changed" in late.json["detail"]


def test_refund_stays_the_default_and_moves_through_stripe(api, make_order):
    make_order()
    rma = ask(api, JEANS).json["rma"]
    shown = approve_and_receive(api, rma, "JEANS").json
    assert shown["status"] == "refund_pending" and shown["refunds"][0]["amount"] == 8000


def credited(api: Any, make_order: Any) -> str:
    make_order()
    rma = ask(api, JEANS, "store_credit").json["rma"]
    assert approve_and_receive(api, rma, "JEANS").json["status"] == "credited"
    return rma


def spend(app: Any, amount: int) -> None:
    from returns_service.credits.services import redeem

    with app.app_context():
        code = db.session.scalars(select(CreditCode)).one().code
        redeem(db.session, code, amount=amount, order_reference="W-1", idempotency_key="k")
        db.session.commit()


@pytest.mark.parametrize(("spent", "cash"), [
    (0, 8000),  # the €8 bonus is forfeited, the €80 comes back
    (500, 8000),  # €5 spent: out of the bonus
    (3000, 5800),  # bonus spent, and €22 of the credit: €58 left
])
def test_an_admin_turns_what_is_left_of_the_credit_into_a_refund(app, api, make_order,
                                                                  spent, cash):
    rma = credited(api, make_order)
    if spent:
        spend(app, spent)
    response = api.post(f"/api/v1/returns/{rma}/convert-credit", as_="admin",
                        json={"note": "Customer moved abroad"})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "refund_pending"
    assert [r["amount"] for r in response.json["refunds"]] == [cash]
    with app.app_context():
        code = db.session.scalars(select(CreditCode)).one()
        entries = db.session.scalars(select(CreditEntry).where(
            CreditEntry.code_id == code.id)).all()
        assert sum(e.amount for e in entries) == 0  # the code is closed
        assert [e.actor_label for e in entries if e.kind == "refund_conversion"] == [
            "admin@shop.test"]
    again = api.post(f"/api/v1/returns/{rma}/convert-credit", as_="admin", json={})
    assert again.status_code == 409  # once


def test_agents_may_not_convert_credit(api, make_order):
    rma = credited(api, make_order)
    assert api.post(f"/api/v1/returns/{rma}/convert-credit", as_="agent",
                    json={}).status_code == 403


def test_spent_credit_has_nothing_to_convert(app, api, make_order):
    rma = credited(api, make_order)
    spend(app, 8800)
    response = api.post(f"/api/v1/returns/{rma}/convert-credit", as_="admin", json={})
    assert response.status_code == 422 and "spent" in str(response.json["errors"])
