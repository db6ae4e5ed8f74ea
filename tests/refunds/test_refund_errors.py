"""Stripe errors: transient ones retry with the same idempotency key, permanent ones stop
with a message staff can act on. Answered by a loopback stub speaking Stripe's API."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from returns_service.db import db
from returns_service.outbox.models import OutboxMessage
from returns_service.outbox.registry import RetryLater
from returns_service.outbox.service import process
from tests.support.stripe import API_KEY, Drop, Fail


@pytest.fixture
def app_config(app_config: dict[str, Any], stub_stripe: Any) -> dict[str, Any]:
    app_config.update(STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=stub_stripe.url)
    return app_config


def receive(api: Any, make_return: Any) -> str:
    rma = make_return(items=[{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}])["rma"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    response = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]})
    assert response.status_code == 200, response.json
    return rma


def run_refund_job(app: Any) -> str:
    """What the worker (or the relay) does next time: process the refund's outbox message."""
    with app.app_context():
        message_id = db.session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.topic == "refund.execute", OutboxMessage.processed_at.is_(None)))
        return process(message_id)


def shown(api: Any, rma: str) -> dict[str, Any]:
    return api.get(f"/api/v1/returns/{rma}", as_="agent").json


def test_transient_errors_retry_with_the_same_key_and_refund_once(app, api, make_return,
                                                                  stub_stripe):
    stub_stripe.script = [Fail(500), Fail(500), Fail(500)]  # the client's own 3 tries
    rma = receive(api, make_return)  # the job runs after commit and gives up for now
    assert shown(api, rma)["status"] == "refund_pending"

    stub_stripe.script = [Fail(429, "rate_limit", "Too many requests", "rate_limit_error")]
    with pytest.raises(RetryLater):
        run_refund_job(app)
    stub_stripe.script = [Drop(), Drop(), Drop()]
    with pytest.raises(RetryLater):
        run_refund_job(app)
    stub_stripe.script = [Fail(429, "lock_timeout", "Lock timeout", "invalid_request_error")]
    with pytest.raises(RetryLater):
        run_refund_job(app)
    assert shown(api, rma)["status"] == "refund_pending"  # nothing failed for good

    run_refund_job(app)  # Stripe answers at last

    ret = shown(api, rma)
    assert ret["status"] == "refunded"
    assert [r["status"] for r in ret["refunds"]] == ["succeeded"]
    keys = {seen.idempotency_key for seen in stub_stripe.creates()}
    assert keys == {f"refund-{rma}-1"}
    assert len(stub_stripe.creates()) == 9
    assert len(stub_stripe.refunds) == 1 and stub_stripe.refunds[0]["amount"] == 2500
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.topic == "refund.execute"))
        assert message.attempts == 5 and message.processed_at is not None


@pytest.mark.parametrize(("error", "advice"), [
    (Fail(400, "charge_already_refunded", "Charge ch_1 has already been refunded.",
          "invalid_request_error"), "already been refunded in full"),
    (Fail(400, "amount_too_large", "Refund amount (€25.00) is greater than unrefunded "
          "amount on charge (€10.00)", "invalid_request_error"), "larger than what is left"),
    (Fail(401, None, "Invalid API Key provided: sk_test_***", "invalid_request_error"),
     "Fix STRIPE_API_KEY"),
], ids=["already-refunded", "amount-too-large", "bad-api-key"])
def test_permanent_error_fails_the_refund_with_advice_then_retry_works(
        app, api, make_return, stub_stripe, error, advice):
    stub_stripe.script = [error]
    rma = receive(api, make_return)

    failed = shown(api, rma)
    assert failed["status"] == "refund_failed"
    [refund] = failed["refunds"]
    assert refund["status"] == "failed"
    assert advice in refund["failure_message"]
    assert error.message[:20] in refund["failure_message"]  # Stripe's own words kept too
    trail = [e for e in api.get(f"/api/v1/returns/{rma}/events", as_="agent").json
             if e["kind"] != "notification"]  # customer emails are listed too
    *_, status_event, staff_note = trail
    assert status_event["to_status"] == "refund_failed"
    assert status_event["customer_visible"] is True and not status_event["note"]
    assert staff_note["kind"] == "refund" and staff_note["customer_visible"] is False
    assert advice in staff_note["note"]

    retried = api.post(f"/api/v1/returns/{rma}/refund/retry", as_="agent", json={})
    assert retried.status_code == 200, retried.json
    ret = shown(api, rma)
    assert ret["status"] == "refunded"
    assert [(r["attempt"], r["status"]) for r in ret["refunds"]] == [(1, "failed"),
                                                                    (2, "succeeded")]
    assert [s.idempotency_key for s in stub_stripe.creates()] == [f"refund-{rma}-1",
                                                                  f"refund-{rma}-2"]
    assert len(stub_stripe.refunds) == 1


def test_pending_refund_waits_for_the_webhook(app, app_config, api, client, make_return,
                                              stub_stripe):
    from returns_service.refunds.services import execute_refund
    from tests.support.stripe import WEBHOOK_SECRET, post_webhook, stripe_event

    app.config["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    stub_stripe.refund_status = "pending"  # e.g. a bank transfer refund that takes days
    rma = receive(api, make_return)

    waiting = shown(api, rma)
    assert waiting["status"] == "refund_pending"
    [refund] = waiting["refunds"]
    assert (refund["status"], refund["provider_refund_id"]) == ("pending", "re_stub_1")
    with app.app_context():
        assert execute_refund(refund["id"]) == "nothing to do"  # it is Stripe's turn
    assert len(stub_stripe.creates()) == 1

    done = dict(stub_stripe.refunds[0], status="succeeded")
    assert post_webhook(client, stripe_event("refund.updated", done)).status_code == 200
    assert shown(api, rma)["status"] == "refunded"


def test_refund_left_pending_is_asked_about_once_the_webhook_is_overdue(app, api, make_return,
                                                                          stub_stripe):
    """Stripe said "pending" and the webhook that settles it never came (a wrong signing
    secret, an endpoint down longer than Stripe retries): after an hour the tick asks."""
    from datetime import timedelta

    from returns_service.common.clock import utcnow
    from returns_service.refunds.services import poll_pending_refunds
    from returns_service.scheduler import tick

    stub_stripe.refund_status = "pending"
    rma = receive(api, make_return)
    assert shown(api, rma)["status"] == "refund_pending"

    def asked() -> int:
        return len([s for s in stub_stripe.seen
                    if s.method == "GET" and s.path == "/v1/refunds/re_stub_1"])

    later = utcnow() + timedelta(minutes=61)
    with app.app_context():
        assert poll_pending_refunds() == 0  # within the hour the webhook may still come
        assert asked() == 0
        assert poll_pending_refunds(later) == 0  # asked: still pending at Stripe
        assert poll_pending_refunds(later) == 0  # and not asked again within the hour
        assert asked() == 1
    assert shown(api, rma)["status"] == "refund_pending"

    stub_stripe.refunds[0]["status"] = "succeeded"  # settled; the webhook is lost
    assert tick(app, later + timedelta(minutes=61))["refunds_settled"] == 1
    assert asked() == 2
    assert shown(api, rma)["status"] == "refunded"
    events = api.get(f"/api/v1/returns/{rma}/events", as_="agent").json
    assert [e["actor_type"] for e in events if e["to_status"] == "refunded"] == ["stripe"]
    assert any(e["kind"] == "notification" and e["data"]["step"] == "refunded" for e in events)
    assert tick(app, later + timedelta(hours=3))["refunds_settled"] == 0  # nothing left
    assert asked() == 2


def test_refund_stripe_no_longer_shows_is_left_pending_and_asked_about_hourly(app, api,
                                                                              make_return,
                                                                              stub_stripe):
    from datetime import timedelta

    from returns_service.common.clock import utcnow
    from returns_service.refunds.services import poll_pending_refunds

    stub_stripe.refund_status = "pending"
    rma = receive(api, make_return)
    stub_stripe.refunds[0]["id"] = "re_gone"  # Stripe answers 404 for re_stub_1 now
    later = utcnow() + timedelta(minutes=61)
    with app.app_context():
        assert poll_pending_refunds(later) == 0
        assert poll_pending_refunds(later + timedelta(minutes=30)) == 0  # not within the hour
        assert poll_pending_refunds(later + timedelta(minutes=62)) == 0
    asked = [s for s in stub_stripe.seen if s.path == "/v1/refunds/re_stub_1"]
    assert len(asked) == 2
    assert shown(api, rma)["status"] == "refund_pending"  # nothing guessed


def test_every_call_sends_the_pinned_api_version(app, api, make_return, stub_stripe):
    """The version is the service's, not the installed client release's (see docs/stripe.md)."""
    from returns_service.payments.stripe import STRIPE_API_VERSION

    receive(api, make_return)
    assert stub_stripe.seen, "the refund job did not call Stripe"
    assert {seen.stripe_version for seen in stub_stripe.seen} == {STRIPE_API_VERSION}
