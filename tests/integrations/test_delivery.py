"""Outbound webhooks end to end, on a real HTTP receiver that verifies every request with
the official `standardwebhooks` library: events follow return changes, in order, signed;
failures are retried on the scheduler's clock; 410 and 3 days of failures disable the
endpoint and tell the admins."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from returns_service.common import clock
from returns_service.db import db
from returns_service.integrations.models import WebhookEndpoint
from returns_service.notifications.models import Notification
from returns_service.notifications.render import build_message
from returns_service.scheduler import tick
from tests.integrations.conftest import deliveries, register
from tests.support.receiver import Answer, Receiver
from tests.support.stripe import post_webhook, refund_object, stripe_event


def approved_and_received(api: Any, make_return: Any) -> str:
    rma = make_return(items=[{"sku": "SHIRT", "quantity": 2, "reason": "doesnt_fit"}])["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    received = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 2, "condition": "damaged", "restock": False}]})
    assert received.status_code == 200, received.json
    return rma


def test_return_changes_reach_the_receiver_signed_and_in_order(app, api, make_return,
                                                                receiver, endpoint):
    rma = approved_and_received(api, make_return)
    accepted = receiver.accepted()
    assert [r.payload["type"] for r in accepted] == [
        "return.requested", "return.approved", "return.received"]
    assert [r.payload["sequence"] for r in accepted] == [1, 2, 3]
    assert receiver.rejected == []
    received = accepted[-1].payload
    assert received["version"] == 1
    assert received["data"]["return"]["rma"] == rma
    assert received["data"]["return"]["items"] == [{
        "sku": "SHIRT", "name": "Shirt", "quantity": 2, "reason": "doesnt_fit",
        "received_quantity": 2, "condition": "damaged", "restock": False}]
    assert {d.status for d in deliveries(app)} == {"delivered"}


def test_an_endpoint_gets_only_the_events_it_subscribed_to(app, api, make_return):
    with Receiver() as approvals:
        register(api, approvals, ["return.approved"])
        approved_and_received(api, make_return)
        assert [r.payload["type"] for r in approvals.accepted()] == ["return.approved"]
        assert approvals.accepted()[0].payload["sequence"] == 1


def test_receiver_down_then_up_gets_every_event_once_in_order(app, api, make_return,
                                                              frozen_now):
    down = Receiver()  # its port is taken, nothing listens yet
    register(api, down)
    approved_and_received(api, make_return)
    log = deliveries(app)
    assert [(d.sequence, d.status, d.attempts) for d in log] == [
        (1, "pending", 1), (2, "pending", 0), (3, "pending", 0)]
    assert "ConnectionError" in log[0].last_error
    # The first waits 5 s ± 25 %, the later ones wait behind it (ordering).
    assert frozen_now + timedelta(seconds=3.75) <= log[0].next_attempt_at \
        <= frozen_now + timedelta(seconds=6.25)
    # Events 2 and 3 are due, but wait behind event 1: the scheduler sends nothing yet.
    assert tick(app, frozen_now + timedelta(seconds=1))["webhooks_due"] == 0
    # Still down at the next passes: attempts back off.
    for minutes in (1, 3):
        later = frozen_now + timedelta(minutes=minutes)
        clock.freeze(later)
        tick(app, later)
    assert deliveries(app)[0].attempts == 3
    with down.start():
        later = frozen_now + timedelta(hours=1)
        clock.freeze(later)
        assert tick(app, later)["webhooks_due"] == 1
        assert [r.payload["sequence"] for r in down.accepted()] == [1, 2, 3]
        assert len({r.webhook_id for r in down.received}) == 3
    assert [d.status for d in deliveries(app)] == ["delivered"] * 3


def test_slow_receiver_times_out_and_the_retry_is_delivered(app, app_config, build_app, api,
                                                            make_return, receiver, endpoint,
                                                            frozen_now):
    slow_app = build_app(WEBHOOK_TIMEOUT_SECONDS=1)
    slow_api_client = slow_app.test_client()
    rma = make_return()["rma"]  # delivered in time
    receiver.script = [Answer(delay=2.5)]  # the next answer is slower than the timeout
    slow_api_client.post(f"/api/v1/returns/{rma}/approve", json={},
                         headers={"Authorization": f"Bearer {api.tokens['agent']}"})
    log = deliveries(app)
    assert [(d.event_type, d.status) for d in log] == [
        ("return.requested", "delivered"), ("return.approved", "pending")]
    assert log[1].last_error == "No answer within 1 s."
    later = frozen_now + timedelta(minutes=5)
    clock.freeze(later)
    tick(slow_app, later)
    log = deliveries(app)
    assert (log[1].status, log[1].attempts, log[1].response_status) == ("delivered", 2, 200)
    approvals = [r for r in receiver.received if r.payload["type"] == "return.approved"]
    assert len(approvals) == 2 and approvals[0].webhook_id == approvals[1].webhook_id
    assert approvals[0].timestamp <= approvals[1].timestamp  # signed afresh


def test_410_gone_disables_the_endpoint_and_emails_the_admins(app, api, make_return,
                                                              receiver, endpoint):
    receiver.script = [Answer(status=410, body="unsubscribed")]
    make_return()
    with app.app_context():
        row = db.session.get(WebhookEndpoint, endpoint["id"])
        assert not row.enabled and "410" in row.disabled_reason
        emails = db.session.scalars(select(Notification).where(
            Notification.step == "webhook_disabled")).all()
        assert [e.to_email for e in emails] == ["admin@shop.test"]
        assert receiver.url in emails[0].subject
        text = build_message(emails[0]).get_payload()[0].get_payload(decode=True).decode()
        assert "410 Gone" in text and "resend the failed events" in text
    log = deliveries(app)
    assert [(d.status, d.response_status, d.response_body) for d in log] == [
        ("failed", 410, "unsubscribed")]
    shown = api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}", as_="admin").json
    assert shown["enabled"] is False


def test_failing_for_three_days_disables_the_endpoint(app, api, make_return, frozen_now):
    with Receiver() as broken:
        broken.script = [Answer(status=500)] * 100
        register(api, broken)
        make_return()
        now = frozen_now
        for hours in (1, 6, 12, 24, 36, 48, 60, 71):
            now = frozen_now + timedelta(hours=hours)
            clock.freeze(now)
            tick(app, now)
        with app.app_context():
            assert db.session.scalar(select(WebhookEndpoint.enabled)) is True
        now = frozen_now + timedelta(hours=72, minutes=1)
        clock.freeze(now)
        tick(app, now)
    with app.app_context():
        row = db.session.scalar(select(WebhookEndpoint))
        assert row.enabled is False and "72 hours" in row.disabled_reason
        assert db.session.scalar(select(Notification.to_email).where(
            Notification.step == "webhook_disabled")) == "admin@shop.test"
    (delivery,) = deliveries(app)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 10, 500)


def test_rotation_sends_both_signatures_for_a_day(app, api, make_return, receiver, endpoint,
                                                  frozen_now):
    old = receiver.secrets[0]
    rotated = api.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret",
                       as_="admin")
    assert rotated.status_code == 200 and rotated.json["secret"] not in (old, None)
    receiver.secrets = [old, rotated.json["secret"]]
    make_return()
    (first,) = receiver.accepted()
    assert first.verified_by == [0, 1] and len(first.signatures) == 2
    later = frozen_now + timedelta(hours=24, minutes=1)
    clock.freeze(later)
    api.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test", as_="integration")
    second = receiver.received[-1]
    assert second.payload["type"] == "webhook.test"
    assert second.verified_by == [1] and len(second.signatures) == 1


def test_resend_sends_the_same_event_again(app, api, make_return, receiver, endpoint):
    make_return()
    (delivery,) = api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries",
                          as_="integration").json["items"]
    assert (delivery["status"], delivery["response_status"], delivery["attempts"]) == (
        "delivered", 200, 1)
    assert delivery["latency_ms"] is not None and delivery["response_body"] == "ok"
    answer = api.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries/"
                      f"{delivery['id']}/resend", as_="integration")
    assert answer.status_code == 202, answer.json
    first, again = receiver.accepted()
    assert first.webhook_id == again.webhook_id == delivery["message_id"]
    assert first.payload == again.payload


def test_an_event_still_waiting_is_not_resent(app, api, make_return):
    with Receiver() as down:
        endpoint = register(api, down)
    make_return()  # the receiver is gone: the event waits for its retry
    (delivery,) = deliveries(app)
    answer = api.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries/"
                      f"{delivery.id}/resend", as_="integration")
    assert answer.status_code == 422
    assert answer.json["errors"]["status"] == ["The event is already waiting to be sent."]


def test_refund_outcomes_are_sent(app, api, make_return, receiver):
    register(api, receiver, ["refund.succeeded", "refund.failed"])
    rma = approved_and_received(api, make_return)
    refund_id = api.get(f"/api/v1/returns/{rma}", as_="agent").json["refunds"][0]["id"]
    # No Stripe key here: Stripe's webhook reports our refund as made.
    answer = post_webhook(api.client, stripe_event("refund.updated", refund_object(
        "re_hook_1", amount=5000, payment_intent="pi_test_A1001",
        metadata={"refund_id": str(refund_id)})))
    assert answer.status_code == 200, answer.json
    (event,) = receiver.accepted()
    assert event.payload["type"] == "refund.succeeded"
    refund = event.payload["data"]["refund"]
    assert {k: refund[k] for k in ("id", "amount", "currency", "status", "provider_refund_id",
                                   "rma", "order_number")} == {
        "id": refund_id, "amount": 5000, "currency": "EUR", "status": "succeeded",
        "provider_refund_id": "re_hook_1", "rma": rma, "order_number": "A1001"}
    assert api.get(f"/api/v1/returns/{rma}", as_="agent").json["status"] == "refunded"


@pytest.mark.usefixtures("resolutions_config")
def test_store_credit_issued_reaches_the_receiver_with_its_code(app, api, make_order,
                                                                 receiver, endpoint):
    make_order()
    rma = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com", "resolution": "store_credit",
        "items": [{"sku": "JEANS", "quantity": 1, "reason": "doesnt_fit"}]}).json["rma"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "JEANS", "quantity": 1, "condition": "resellable"}]})
    accepted = receiver.accepted()
    assert [r.payload["type"] for r in accepted] == [
        "return.requested", "return.approved", "return.received", "credit.issued"]
    issued = accepted[-1].payload["data"]
    assert issued["return"]["resolution"] == "store_credit"
    assert issued["credit"]["code"].startswith("RS-")
    assert (issued["credit"]["amount"], issued["credit"]["bonus"],
            issued["credit"]["currency"]) == (8000, 800, "EUR")
