"""A charge's refunds and a payment's refunds are read in full, page after page, through the
official stripe library against a loopback fake that pages as Stripe does (at most
`page_size` refunds a page, `has_more`, `starting_after`)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from returns_service.db import db
from returns_service.orders.models import Order
from returns_service.payments.models import StripeEvent
from returns_service.refunds.amounts import refunded_on_order
from returns_service.refunds.models import Refund
from tests.support.stripe import API_KEY, WEBHOOK_SECRET, post_webhook, stripe_event

PI = "pi_test_A1001"  # the payment intent of the default test order
CHARGE = "ch_test_A1001"


@pytest.fixture
def app_config(app_config: dict[str, Any], stub_stripe: Any) -> dict[str, Any]:
    app_config.update(STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=stub_stripe.url,
                      STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    stub_stripe.page_size = 10
    return app_config


def dashboard_refunds(stub: Any, count: int, *, payment_intent: str | None,
                      amount: int = 100) -> list[dict[str, Any]]:
    """`count` refunds made in the Stripe dashboard on the charge, oldest first."""
    made = [{"id": f"re_dash_{n}", "object": "refund", "amount": amount, "currency": "eur",
             "status": "succeeded", "payment_intent": payment_intent, "charge": CHARGE,
             "metadata": {}, "failure_reason": None, "created": int(time.time()) + n}
            for n in range(1, count + 1)]
    stub.refunds.extend(made)
    return made


def recorded(app: Any) -> list[tuple[str, str | None]]:
    with app.app_context():
        rows = db.session.execute(select(Refund.provider_refund_id, Refund.payment_intent))
        return sorted((str(a), b) for a, b in rows)


def counted_on_order(app: Any) -> int:
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == "A1001"))
        return refunded_on_order(order)[0]


def test_fetched_refunds_of_a_charge_get_its_payment_intent_and_every_page(
        app, client, make_order, stub_stripe):
    """API >= 2022-11-15: charge.refunded without the refunds; Stripe's fixtures give the
    refund objects no payment_intent, so the charge's is filled in. 12 refunds, pages of 10."""
    make_order("A1001")
    stub_stripe.intent_of_charge[CHARGE] = PI
    dashboard_refunds(stub_stripe, 12, payment_intent=None)
    charge = {"id": CHARGE, "object": "charge", "payment_intent": PI, "amount_refunded": 1200,
              "refunded": False}

    assert post_webhook(client, stripe_event("charge.refunded", charge)).status_code == 200

    assert recorded(app) == sorted((f"re_dash_{n}", PI) for n in range(1, 13))
    assert stub_stripe.pages_served == 2
    assert counted_on_order(app) == 1200
    with app.app_context():
        row = db.session.scalar(select(StripeEvent))
        assert row.result == "applied" and row.detail.count("recorded dashboard refund") == 12


def test_an_embedded_refunds_list_with_more_is_read_to_the_end(app, client, make_order,
                                                               stub_stripe):
    """Older API versions embed the first 10 refunds and say `has_more`: the rest are
    listed after the last embedded one."""
    make_order("A1001")
    made = dashboard_refunds(stub_stripe, 12, payment_intent=PI)
    newest_first = made[::-1]
    charge = {"id": CHARGE, "object": "charge", "payment_intent": PI, "amount_refunded": 1200,
              "refunds": {"object": "list", "data": newest_first[:10], "has_more": True,
                          "url": f"/v1/charges/{CHARGE}/refunds", "total_count": 12}}

    assert post_webhook(client, stripe_event("charge.refunded", charge)).status_code == 200

    assert recorded(app) == sorted((f"re_dash_{n}", PI) for n in range(1, 13))
    [asked] = [s.form for s in stub_stripe.seen if s.method == "GET"]
    assert (asked["charge"], asked["starting_after"]) == (CHARGE, newest_first[9]["id"])
    assert counted_on_order(app) == 1200


def test_reconciling_after_a_crash_finds_our_refund_past_the_first_page(
        app, api, make_return, stub_stripe):
    """A worker died mid-call; meanwhile 11 refunds were made in the dashboard, so ours is
    on the second page of the payment's refunds: it is found there, not sent again."""
    from datetime import timedelta

    from returns_service.common.clock import utcnow
    from returns_service.refunds.services import execute_refund

    app.config["STRIPE_API_KEY"] = None  # the refund waits unsent while we set the scene
    rma = make_return(items=[{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}])["rma"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    shown = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]}).json
    refund_id = shown["refunds"][0]["id"]
    with app.app_context():  # the dead worker's lease, long expired
        db.session.get(Refund, refund_id).submitted_at = utcnow() - timedelta(hours=1)
        db.session.commit()
    stub_stripe.refunds.append({
        "id": "re_ours", "object": "refund", "amount": 2500, "currency": "eur",
        "status": "succeeded", "payment_intent": PI, "charge": CHARGE,
        "metadata": {"rma": rma, "refund_id": str(refund_id)}})
    dashboard_refunds(stub_stripe, 11, payment_intent=PI, amount=10)
    app.config["STRIPE_API_KEY"] = API_KEY

    with app.app_context():
        assert execute_refund(refund_id) == "succeeded"

    assert stub_stripe.creates() == []
    assert stub_stripe.pages_served == 2
    ret = api.get(f"/api/v1/returns/{rma}", as_="agent").json
    assert ret["status"] == "refunded"
    assert [(r["provider_refund_id"], r["status"]) for r in ret["refunds"]] == [
        ("re_ours", "succeeded")]
