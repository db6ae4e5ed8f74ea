"""Keep-the-item: cheap items returned for the merchant's fault are not sent back; the return
is settled at approval (refund or credit), at most once per customer in the policy's period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from returns_service.common import clock
from returns_service.credits.models import CreditEntry
from returns_service.db import db
from returns_service.notifications.models import Notification

pytestmark = pytest.mark.usefixtures("resolutions_config")

DAMAGED_SHIRT = [{"sku": "SHIRT", "quantity": 1, "reason": "damaged"}]


def ask(api: Any, items: list[dict[str, Any]], number: str = "A1001",
        resolution: str = "refund") -> dict[str, Any]:
    response = api.post("/api/v1/returns", json={
        "order_number": number, "email": "jane@example.com", "items": items,
        "resolution": resolution})
    assert response.status_code == 201, response.json
    return response.json


def test_a_cheap_damaged_item_is_kept_and_refunded_at_approval(app, api, make_order):
    make_order()
    shown = ask(api, DAMAGED_SHIRT)
    assert shown["keep_item"] is True and shown["status"] == "requested"
    approved = api.post(f"/api/v1/returns/{shown['rma']}/approve", as_="agent", json={})
    assert approved.status_code == 200, approved.json
    after = approved.json
    # No parcel, no receive step: the refund starts with the approval, in the same change
    # (the version moves by one).
    assert after["status"] == "refund_pending"
    assert after["version"] == shown["version"] + 1
    # Merchant's fault: the item and the shipping come back in full.
    assert after["refund"]["total"] == 2500 + 500
    assert [r["amount"] for r in after["refunds"]] == [3000]
    assert "receive" not in after["allowed_actions"]
    with app.app_context():
        approval = db.session.scalars(select(Notification)
                                      .where(Notification.step == "approved")).one()
    from returns_service.notifications.render import build_message

    with app.app_context():
        note = db.session.get(Notification, approval.id)
        text = next(part.get_payload(decode=True).decode() for part in
                    build_message(note).walk() if part.get_content_type() == "text/plain")
    assert "No need to send anything back" in text and "How to send it back" not in text


def test_a_kept_item_can_be_paid_back_in_store_credit(app, api, make_order):
    make_order()
    shown = ask(api, DAMAGED_SHIRT, resolution="store_credit")
    after = api.post(f"/api/v1/returns/{shown['rma']}/approve", as_="agent", json={}).json
    assert after["status"] == "credited" and after["refunds"] == []
    assert after["store_credit"] == {"amount": 3000, "bonus": 300, "total": 3300}
    with app.app_context():
        assert sorted(e.amount for e in db.session.scalars(select(CreditEntry))) == [300, 3000]


@pytest.mark.parametrize(("items", "why"), [
    ([{"sku": "JEANS", "quantity": 1, "reason": "damaged"}], "too dear to keep"),
    ([{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}], "customer's reason"),
    ([{"sku": "SHIRT", "quantity": 1, "reason": "damaged"},
      {"sku": "JEANS", "quantity": 1, "reason": "damaged"}], "one line does not qualify"),
])
def test_returns_that_do_not_qualify_are_sent_back(api, make_order, items, why):
    make_order()
    shown = ask(api, items)
    after = api.post(f"/api/v1/returns/{shown['rma']}/approve", as_="agent", json={}).json
    assert shown["keep_item"] is False, why
    assert after["status"] == "approved" and "receive" in after["allowed_actions"]


def test_keep_item_is_limited_per_customer_in_the_period(api, make_order, frozen_now):
    make_order("A1001")
    make_order("A1002")
    make_order("A1003")
    assert ask(api, DAMAGED_SHIRT, "A1001")["keep_item"] is True
    # The policy allows one per customer email in 90 days: the next one goes back by post.
    assert ask(api, DAMAGED_SHIRT, "A1002")["keep_item"] is False
    clock.freeze(frozen_now + timedelta(days=91))
    make_order("A1004")
    assert ask(api, DAMAGED_SHIRT, "A1004")["keep_item"] is True


def test_a_cancelled_keep_item_return_does_not_count(api, make_order):
    make_order("A1001")
    make_order("A1002")
    first = ask(api, DAMAGED_SHIRT, "A1001")
    assert api.post(f"/api/v1/returns/{first['rma']}/cancel", as_="agent",
                    json={}).status_code == 200
    assert ask(api, DAMAGED_SHIRT, "A1002")["keep_item"] is True
