"""Refunds recorded as made outside Stripe: at most what the return is still owed, unless an
admin says why more was paid (kept in the return's staff-only trail)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.stripe import WEBHOOK_SECRET, post_webhook, refund_object, stripe_event

PI = "pi_test_A1001"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET  # no API key: ours stays unsent
    return app_config


@pytest.fixture
def failed(api: Any, client: Any, make_return: Any) -> str:
    """A return owed 2,500 (one shirt) whose Stripe refund failed: RMA."""
    shown = make_return(items=[{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}])
    rma = shown["rma"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    received = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]}).json
    refund_id = received["refunds"][0]["id"]
    post_webhook(client, stripe_event("refund.failed", refund_object(
        "re_1", amount=2500, payment_intent=PI, status="failed",
        metadata={"rma": rma, "refund_id": str(refund_id)})))
    assert api.get(f"/api/v1/returns/{rma}", as_="agent").json["status"] == "refund_failed"
    return rma


def manual(api: Any, rma: str, as_: str, **body: Any) -> Any:
    return api.post(f"/api/v1/returns/{rma}/refund/manual", as_=as_,
                    json={"reference": "SEPA-1", **body})


def test_more_than_the_return_is_owed_is_refused(api, failed):
    response = manual(api, failed, "agent", amount=10000)
    assert response.status_code == 422
    message = response.json["errors"]["amount"][0]
    assert "still owed" in message and "25.00" in message
    assert api.get(f"/api/v1/returns/{failed}", as_="agent").json["status"] == "refund_failed"


def test_a_capped_refund_leaves_the_order_its_other_lines(api, failed):
    assert manual(api, failed, "agent", amount=2500).status_code == 200
    second = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": "JEANS", "quantity": 1, "reason": "doesnt_fit"}]})
    assert second.status_code == 201
    assert second.json["expected_refund"]["total"] > 0


def test_an_agent_cannot_over_refund_even_with_a_reason(api, failed):
    response = manual(api, failed, "agent", amount=3000, over_refund_reason="Goodwill")
    assert response.status_code == 403
    assert api.get(f"/api/v1/returns/{failed}", as_="agent").json["status"] == "refund_failed"


def test_an_admin_over_refund_with_a_reason_is_recorded_in_the_trail(api, failed):
    response = manual(api, failed, "admin", amount=3000,
                      over_refund_reason="Goodwill for the late parcel")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "refunded"
    events = api.get(f"/api/v1/returns/{failed}/events", as_="agent").json
    over = [e for e in events if e["kind"] == "over_refund"]
    assert len(over) == 1
    assert "Goodwill for the late parcel" in over[0]["note"]
    assert over[0]["customer_visible"] is False
    assert (over[0]["data"]["amount"], over[0]["data"]["owed"]) == (3000, 2500)


def test_an_admin_without_a_reason_is_capped_too(api, failed):
    assert manual(api, failed, "admin", amount=2501).status_code == 422
    assert manual(api, failed, "admin", amount=2500, over_refund_reason="  ").status_code == 200
