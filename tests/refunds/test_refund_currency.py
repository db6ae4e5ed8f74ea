"""Stripe's answer about our refund is checked against what we asked for: another amount or
currency is recorded as Stripe reports it, never taken for ours, and the return is flagged.
Answered by the loopback stub through the official client."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.orders.models import Order
from returns_service.payments.stripe import ProviderRefund
from returns_service.refunds.amounts import (
    refund_context,
    refunded_on_order,
    refunded_on_return,
    remaining_on_order,
    settled_on_return,
)
from returns_service.refunds.models import Refund
from returns_service.refunds.services import execute_refund, poll_pending_refunds, record_outcome
from returns_service.returns.models import Return, ReturnEvent
from tests.support.stripe import API_KEY

PI = "pi_test_A1001"


@pytest.fixture
def app_config(app_config: dict[str, Any], stub_stripe: Any) -> dict[str, Any]:
    app_config.update(STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=stub_stripe.url)
    return app_config


def receive(api: Any, make_return: Any) -> dict[str, Any]:
    """A return of one shirt (owed 2,500 EUR) received: its refund job runs at once."""
    rma = make_return(items=[{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}])["rma"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    response = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]})
    assert response.status_code == 200, response.json
    return response.json


def shown(api: Any, rma: str) -> dict[str, Any]:
    return api.get(f"/api/v1/returns/{rma}", as_="agent").json


def flags(api: Any, rma: str) -> list[dict[str, Any]]:
    return [e for e in api.get(f"/api/v1/returns/{rma}/events", as_="agent").json
            if e["kind"] == "flag"]


def order_figures(app: Any) -> tuple[int, int, int, int]:
    """refunded and remaining on the order, refunded and settled on its (only) return."""
    with app.app_context():
        order = db.session.scalar(select(Order))
        ret = db.session.scalar(select(Return))
        return (refunded_on_order(order)[0], remaining_on_order(order),
                refunded_on_return(ret), settled_on_return(ret))


@pytest.mark.parametrize(("answer", "reported", "status"), [
    ({"amount": 2000}, (2000, "EUR", "€20.00"), "refund_pending"),
    ({"currency": "usd"}, (2500, "USD", "$25.00"), "refund_pending"),
    ({"amount": 3000}, (3000, "EUR", "€30.00"), "refunded"),
], ids=["less", "another currency", "more"])
def test_an_answer_that_is_not_what_we_asked_for_is_recorded_and_flagged(
        app, api, make_return, stub_stripe, answer, reported, status):
    stub_stripe.answer = answer
    rma = receive(api, make_return)["rma"]

    ret = shown(api, rma)
    [refund] = ret["refunds"]
    amount, currency, money = reported
    assert (refund["status"], refund["amount"], refund["currency"]) == (
        "succeeded", amount, currency)
    # Only what Stripe paid in the order's currency, and all of it, counts: 2,000 is not
    # what the return is owed, so it is not refunded; 3,000 covers it (and is looked at).
    assert ret["status"] == status
    assert ret["needs_review"] is True
    assert "€25.00" in ret["review_reason"] and money in ret["review_reason"]
    [flag] = flags(api, rma)
    assert flag["customer_visible"] is False
    counted = amount if currency == "EUR" else 0
    assert order_figures(app) == (counted, 15000 - counted, counted, counted)


def test_a_shortfall_refunded_in_the_dashboard_then_refunds_the_return(
        app, api, client, make_return, stub_stripe):
    from tests.support.stripe import WEBHOOK_SECRET, post_webhook, refund_object, stripe_event

    app.config["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    stub_stripe.answer = {"amount": 2000}
    rma = receive(api, make_return)["rma"]
    assert shown(api, rma)["status"] == "refund_pending"

    rest = refund_object("re_dash_1", amount=500, payment_intent=PI)
    assert post_webhook(client, stripe_event("refund.created", rest)).status_code == 200
    assert shown(api, rma)["status"] == "refunded"
    assert order_figures(app)[3] == 2500


def test_the_refund_found_after_a_crash_is_checked_too(app, api, make_return, stub_stripe):
    app.config["STRIPE_API_KEY"] = None  # the refund waits unsent while we set the scene
    ret = receive(api, make_return)
    refund_id = ret["refunds"][0]["id"]
    with app.app_context():  # a worker died mid-call, long ago
        db.session.get(Refund, refund_id).submitted_at = utcnow() - timedelta(hours=1)
        db.session.commit()
    stub_stripe.refunds.append({
        "id": "re_found", "object": "refund", "amount": 2500, "currency": "gbp",
        "status": "succeeded", "payment_intent": PI,
        "metadata": {"rma": ret["rma"], "refund_id": str(refund_id)}})
    app.config["STRIPE_API_KEY"] = API_KEY

    with app.app_context():
        assert execute_refund(refund_id).startswith("succeeded, flagged")

    assert stub_stripe.creates() == []
    after = shown(api, ret["rma"])
    assert after["status"] == "refund_pending" and after["needs_review"] is True
    assert "£25.00" in after["review_reason"]
    assert [(r["provider_refund_id"], r["currency"]) for r in after["refunds"]] == [
        ("re_found", "GBP")]
    assert order_figures(app) == (0, 15000, 0, 0)


def test_a_pending_refund_asked_about_later_is_checked_too(app, api, make_return, stub_stripe):
    stub_stripe.refund_status = "pending"
    rma = receive(api, make_return)["rma"]
    assert shown(api, rma)["needs_review"] is False  # the first answer was what we asked

    stub_stripe.refunds[0].update(status="succeeded", currency="usd")
    with app.app_context():
        assert poll_pending_refunds(utcnow() + timedelta(minutes=61)) == 1

    ret = shown(api, rma)
    assert (ret["status"], ret["needs_review"]) == ("refund_pending", True)
    assert (ret["refunds"][0]["status"], ret["refunds"][0]["currency"]) == ("succeeded", "USD")
    assert order_figures(app) == (0, 15000, 0, 0)


def test_amounts_never_add_up_two_currencies(app, api, make_return):
    app.config["STRIPE_API_KEY"] = None  # ours stays pending: 2,500 EUR
    receive(api, make_return)
    with app.app_context():
        return_id = db.session.scalar(select(Return.id))
        for n, (amount, currency, on_return) in enumerate([
                (1000, "EUR", True), (700, "USD", True),  # dashboard refunds on the return
                (300, "EUR", False), (900, "USD", False)], start=1):  # and on the payment
            db.session.add(Refund(return_id=return_id if on_return else None, amount=amount,
                                  currency=currency, status="succeeded", origin="external",
                                  provider="stripe", provider_refund_id=f"re_x{n}",
                                  payment_intent=PI, idempotency_key=f"external-re_x{n}"))
        db.session.commit()
        order = db.session.scalar(select(Order))
        assert refund_context([order.id]) == {order.id: {return_id: (3500, False),
                                                         0: (300, False)}}
    # ours 2,500 + 1,000 on the return, 300 on the payment; the USD ones left out
    assert order_figures(app) == (3800, 15000 - 3800, 3500, 1000)


@pytest.mark.postgres
def test_the_same_surprising_answer_from_the_job_and_webhooks_at_once_flags_once(
        app, api, make_return, stub_stripe):
    """Row locks serialise the job's answer and webhook jobs about the same refund: the
    first records Stripe's figures and flags, the others find them recorded."""
    from returns_service.refunds.stripe_events import record_provider_refund

    app.config["STRIPE_API_KEY"] = None
    ret = receive(api, make_return)
    refund_id = ret["refunds"][0]["id"]
    answer = ProviderRefund(id="re_usd", status="succeeded", amount=2500, currency="USD",
                            payment_intent=PI, failure_reason=None,
                            metadata={"rma": ret["rma"], "refund_id": str(refund_id)})
    start, errors = threading.Barrier(8), []

    def deliver(n: int) -> None:
        try:
            with app.app_context():
                start.wait(timeout=30)
                if n % 2:
                    record_outcome(refund_id, provider=answer)
                else:
                    record_provider_refund(answer)
                    db.session.commit()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with app.app_context():
        assert db.session.scalar(select(func.count(ReturnEvent.id)).where(
            ReturnEvent.kind == "flag")) == 1
        refund = db.session.get(Refund, refund_id)
        assert (refund.status, refund.amount, refund.currency, refund.provider_refund_id) == (
            "succeeded", 2500, "USD", "re_usd")
    assert shown(api, ret["rma"])["status"] == "refund_pending"
    assert order_figures(app) == (0, 15000, 0, 0)
