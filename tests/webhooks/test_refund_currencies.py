"""Webhook refunds in another currency (or of another amount) than ours and the order's:
recorded as Stripe reports them, never counted as the order's money, and flagged."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from returns_service.db import db
from returns_service.payments.models import StripeEvent
from returns_service.returns.models import ReturnEvent
from tests.support.stripe import (
    API_KEY,
    post_webhook,
    refund_object,
    stripe_event,
)

PI = "pi_test_A1001"


def shown(api: Any, rma: str) -> dict[str, Any]:
    return api.get(f"/api/v1/returns/{rma}", as_="agent").json


def flag_count(app: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(ReturnEvent.id)).where(
            ReturnEvent.kind == "flag"))


@pytest.mark.parametrize(("amount", "currency", "money"), [
    (2500, "usd", "$25.00"), (1900, "eur", "€19.00")], ids=["currency", "amount"])
def test_our_refund_reported_in_another_currency_or_amount_is_flagged_not_refunded(
        app, client, api, pending, amount, currency, money):
    obj = refund_object("re_ours_1", amount=amount, currency=currency, payment_intent=PI,
                        metadata={"rma": pending["rma"],
                                  "refund_id": str(pending["refund_id"])})
    assert post_webhook(client, stripe_event("refund.updated", obj)).status_code == 200
    assert post_webhook(client, stripe_event("charge.refund.updated", obj)).status_code == 200

    ret = shown(api, pending["rma"])
    assert ret["status"] == "refund_pending"  # not the 25.00 EUR it is owed
    assert ret["needs_review"] is True
    assert "€25.00" in ret["review_reason"] and money in ret["review_reason"]
    assert [(r["amount"], r["currency"], r["status"], r["provider_refund_id"])
            for r in ret["refunds"]] == [(amount, currency.upper(), "succeeded", "re_ours_1")]
    assert flag_count(app) == 1  # the second event finds Stripe's figures recorded


def test_a_dashboard_refund_in_another_currency_does_not_count_and_is_flagged(
        app, client, api, pending, stub_stripe):
    other = refund_object("re_dash_usd", amount=2500, currency="usd", payment_intent=PI)
    assert post_webhook(client, stripe_event("refund.created", other)).status_code == 200
    assert post_webhook(client, stripe_event("refund.updated", other)).status_code == 200

    ret = shown(api, pending["rma"])
    assert ret["status"] == "refund_pending" and ret["needs_review"] is True
    assert "$25.00" in ret["review_reason"] and "EUR" in ret["review_reason"]
    assert [(r["origin"], r["status"], r["currency"]) for r in ret["refunds"]] == [
        ("service", "pending", "EUR"), ("external", "succeeded", "USD")]
    assert flag_count(app) == 1
    # It does not stand in for ours: the job still sends the 25.00 EUR the return is owed.
    app.config.update(STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=stub_stripe.url)
    with app.app_context():
        from returns_service.refunds.services import execute_refund

        assert execute_refund(pending["refund_id"]) == "succeeded"
    assert [int(s.form["amount"]) for s in stub_stripe.creates()] == [2500]
    assert shown(api, pending["rma"])["status"] == "refunded"


def test_a_dashboard_refund_in_another_currency_before_any_return_is_reported(
        app, client, api, make_order):
    make_order("A1001")
    other = refund_object("re_dash_usd", amount=14000, currency="usd", payment_intent=PI)
    assert post_webhook(client, stripe_event("refund.created", other)).status_code == 200
    with app.app_context():
        row = db.session.scalar(select(StripeEvent))
        assert row.result == "applied"
        assert "in USD, not the order's EUR" in row.detail and "not counted" in row.detail
    created = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": "JEANS", "quantity": 1, "reason": "doesnt_fit"}]}).json
    api.post(f"/api/v1/returns/{created['rma']}/approve", as_="agent", json={})
    received = api.post(f"/api/v1/returns/{created['rma']}/receive", as_="warehouse", json={
        "items": [{"sku": "JEANS", "quantity": 1, "condition": "resellable"}]}).json
    assert received["refund"]["total"] == 8000  # the 140.00 USD is not taken off in EUR
