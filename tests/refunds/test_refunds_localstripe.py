"""Refunds end to end against localstripe: a real paid payment intent, a real refund."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import order_payload


@pytest.fixture
def app_config(stripe_app_config: dict[str, Any]) -> dict[str, Any]:
    return stripe_app_config


@pytest.fixture
def paid_order(api: Any, localstripe: Any) -> Any:
    """Import an order whose payment really happened (at localstripe)."""

    def make(number: str = "A1001", currency: str = "EUR", stripe_factor: int = 1) -> str:
        payload = order_payload(number, currency=currency)
        total = sum(line["unit_price"] * line["quantity"] for line in payload["lines"])
        intent = localstripe.paid_payment_intent(
            (total + payload["shipping_total"]) * stripe_factor, currency)
        payload["payment"] = {"provider": "stripe", "payment_intent": intent}
        response = api.post("/api/v1/orders", as_="integration", json=payload)
        assert response.status_code in (200, 201), response.json
        return intent

    return make


def _request_and_approve(api: Any, items: list[dict[str, Any]]) -> str:
    body = {"order_number": "A1001", "email": "jane@example.com", "items": items}
    created = api.post("/api/v1/returns", json=body)
    assert created.status_code == 201, created.json
    rma = created.json["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    return rma


def test_received_return_is_refunded_once_at_stripe(api, paid_order, localstripe):
    intent = paid_order()
    rma = _request_and_approve(api, [{"sku": "SHIRT", "quantity": 2, "reason": "doesnt_fit"}])

    received = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 2, "condition": "resellable"}]})
    assert received.status_code == 200, received.json

    shown = api.get(f"/api/v1/returns/{rma}", as_="agent").json
    assert shown["status"] == "refunded"
    assert shown["refund"] == {"items": 5000, "restocking_fee": 0, "shipping": 0,
                               "adjustments": 0, "total": 5000, "list_price": 5000,
                               "discount": 0, "tax": 0, "tax_added": 0}
    [refund] = shown["refunds"]
    assert refund["status"] == "succeeded" and refund["origin"] == "service"
    assert refund["amount"] == 5000 and refund["currency"] == "EUR"

    [at_stripe] = localstripe.refunds_for(intent)
    assert at_stripe["id"] == refund["provider_refund_id"]
    assert at_stripe["amount"] == 5000 and at_stripe["currency"] == "eur"
    assert at_stripe["metadata"] == {"rma": rma, "refund_id": str(refund["id"])}

    events = api.get(f"/api/v1/returns/{rma}/events", as_="agent").json
    assert [e["to_status"] for e in events if e["kind"] == "status"][-3:] == [
        "received", "refund_pending", "refunded"]
    assert [e for e in events if e["kind"] == "status"][-1]["actor_type"] == "stripe"


def test_isk_refund_is_sent_in_stripe_units_and_recorded_in_kronur(api, paid_order,
                                                                  localstripe):
    """ISK has no decimals, but Stripe takes it as if it had two: 5,000 kr is 500000."""
    intent = paid_order(currency="ISK", stripe_factor=100)
    rma = _request_and_approve(api, [{"sku": "SHIRT", "quantity": 2, "reason": "doesnt_fit"}])
    api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 2, "condition": "resellable"}]})

    shown = api.get(f"/api/v1/returns/{rma}", as_="agent").json
    assert shown["status"] == "refunded"
    assert [(r["amount"], r["currency"]) for r in shown["refunds"]] == [(5000, "ISK")]
    assert [(r["amount"], r["currency"]) for r in localstripe.refunds_for(intent)] == [
        (500000, "isk")]


def test_merchant_fault_refund_includes_shipping_at_stripe(api, paid_order, localstripe):
    intent = paid_order()
    rma = _request_and_approve(api, [{"sku": "JEANS", "quantity": 1, "reason": "damaged"}])

    api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "JEANS", "quantity": 1, "condition": "damaged"}]})

    shown = api.get(f"/api/v1/returns/{rma}", as_="agent").json
    assert shown["status"] == "refunded"
    assert shown["refund"] == {"items": 8000, "restocking_fee": 0, "shipping": 500,
                               "adjustments": 0, "total": 8500, "list_price": 8000,
                               "discount": 0, "tax": 0, "tax_added": 0}
    assert [r["amount"] for r in localstripe.refunds_for(intent)] == [8500]


def test_running_the_job_again_does_not_refund_again(app, api, paid_order, localstripe):
    from returns_service.outbox.models import OutboxMessage
    from returns_service.outbox.service import process
    from returns_service.refunds.services import execute_refund

    intent = paid_order()
    rma = _request_and_approve(api, [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}])
    api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]})
    refund_id = api.get(f"/api/v1/returns/{rma}", as_="agent").json["refunds"][0]["id"]

    with app.app_context():
        assert execute_refund(refund_id) == "nothing to do"
        from returns_service.db import db

        message_id = db.session.query(OutboxMessage.id).filter_by(topic="refund.execute").scalar()
        assert process(message_id) == "already-processed"

    assert len(localstripe.refunds_for(intent)) == 1


def test_dashboard_refund_is_fetched_from_stripe_and_recorded_once(api, client, paid_order,
                                                                   localstripe):
    from tests.support.stripe import post_webhook, stripe_event

    intent = paid_order()
    rma = _request_and_approve(api, [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}])
    api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]})
    assert api.get(f"/api/v1/returns/{rma}", as_="agent").json["status"] == "refunded"

    # Someone refunds 10.00 more by hand in the Stripe dashboard (no metadata of ours).
    extra = localstripe.client().v1.refunds.create(
        params={"payment_intent": intent, "amount": 1000}).to_dict()
    # Recent API versions send charge.refunded without the refunds: the job fetches them.
    charge = {"id": extra["charge"], "object": "charge", "payment_intent": intent,
              "amount_refunded": 3500, "refunded": False}
    assert post_webhook(client, stripe_event("charge.refunded", charge)).status_code == 200
    assert post_webhook(client, stripe_event("refund.created", extra)).status_code == 200

    shown = api.get(f"/api/v1/returns/{rma}", as_="agent").json
    assert shown["status"] == "refunded"
    assert sorted((r["origin"], r["amount"], r["status"]) for r in shown["refunds"]) == [
        ("external", 1000, "succeeded"), ("service", 2500, "succeeded")]
    assert shown["needs_review"] is True
    assert extra["id"] in shown["review_reason"]
    assert len(localstripe.refunds_for(intent)) == 2
