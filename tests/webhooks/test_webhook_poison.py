"""Signed Stripe events that cannot be used: recorded as rejected with the reason, answered
200 (a refusal is retried by Stripe for days), and never left for a job to fail on again and
again. Bodies that are not Stripe's at all are still refused with a 400, storing nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from returns_service.db import db
from returns_service.outbox.models import OutboxMessage
from returns_service.payments.models import StripeEvent
from returns_service.refunds.stripe_events import apply_event
from tests.support.stripe import post_webhook, refund_object, stripe_event

PI = "pi_test_A1001"


def stored(app: Any) -> list[StripeEvent]:
    with app.app_context():
        rows = db.session.scalars(select(StripeEvent).order_by(StripeEvent.id)).all()
        db.session.expunge_all()
        return list(rows)


def unprocessed_jobs(app: Any) -> int:
    with app.app_context():
        return len(db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.processed_at.is_(None))).all())


def test_a_body_that_is_not_utf8_is_a_400_whatever_the_signature(app, client):
    for signature in ("t=1,v1=00", "garbage", "t=1,v1=" + "a" * 64):
        response = client.post("/webhooks/stripe", data=b'{"id": "\xff\xfe"}',
                               headers={"Stripe-Signature": signature,
                                        "Content-Type": "application/json"})
        assert response.status_code == 400
        assert response.mimetype == "application/problem+json"
    assert stored(app) == []


def refund(**overrides: Any) -> dict[str, Any]:
    obj = refund_object("re_poison", amount=2500, payment_intent=PI)
    obj.update(overrides)
    return obj


def raw_event(obj: dict[str, Any], **envelope: Any) -> bytes:
    return json.dumps({**stripe_event("refund.updated", obj), **envelope}).encode()


UNUSABLE_BODIES = {
    "type over 100 characters": (raw_event(refund(), type="refund." + "x" * 200), "type"),
    "id over 255 characters": (raw_event(refund(), id="evt_" + "1" * 300), "id"),
    "NUL in a text": (raw_event(refund(status="succ\u0000eeded")), "NUL"),
    "NaN": (raw_event(refund()).replace(b'"amount": 2500', b'"amount": NaN'), "NaN"),
    "deep nesting": (raw_event(refund()).replace(
        b'"metadata": {}', b'"metadata": {"x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"),
        "nested"),
    "no id on the refund": (raw_event({k: v for k, v in refund().items() if k != "id"}),
                            "data.object.id"),
    "amount is text": (raw_event(refund(amount="abc")), "amount"),
    "amount of 2**63": (raw_event(refund(amount=2**63)), "amount"),
    "charge.refunded with a bad refund": (json.dumps(stripe_event("charge.refunded", {
        "id": "ch_1", "object": "charge", "payment_intent": PI,
        "refunds": {"object": "list", "data": [refund(amount=-5)], "has_more": False}})
    ).encode(), "refunds.data.0.amount"),
    "dispute without an amount": (json.dumps(stripe_event("charge.dispute.created", {
        "id": "dp_1", "payment_intent": PI, "currency": "eur", "reason": "fraudulent"})
    ).encode(), "amount"),
}


@pytest.mark.parametrize("body,reason", UNUSABLE_BODIES.values(), ids=UNUSABLE_BODIES.keys())
def test_a_signed_unusable_event_is_recorded_as_rejected_and_acknowledged(app, client, body,
                                                                          reason):
    response = post_webhook(client, body)
    assert response.status_code == 200, response.data[:300]
    assert response.json["result"] == "rejected"
    rows = stored(app)
    assert len(rows) == 1
    assert rows[0].result == "rejected"
    assert reason in rows[0].detail
    assert rows[0].processed_at is not None
    assert unprocessed_jobs(app) == 0  # nothing for a job to retry
    again = post_webhook(client, body)  # Stripe's redelivery of the same event
    assert again.status_code == 200
    assert again.json["result"] == "duplicate"
    assert len(stored(app)) == 1


def test_an_event_stored_before_its_shape_was_checked_is_settled_by_its_job(app):
    """Rows written by an older version: the job records them as rejected once, instead of
    failing on every tick of the relay."""
    with app.app_context():
        row = StripeEvent(event_id="evt_old", type="refund.updated",
                          payload=stripe_event("refund.updated", refund(amount="abc")))
        db.session.add(row)
        db.session.commit()
        row_id = row.id
    with app.app_context():
        assert apply_event(row_id).startswith("rejected")
    with app.app_context():
        row = db.session.get(StripeEvent, row_id)
        assert (row.result, row.processed_at is not None) == ("rejected", True)
        assert "amount" in row.detail
        assert apply_event(row_id) == "nothing to do"


def test_a_good_event_is_still_queued_and_applied(app, client):
    response = post_webhook(client, stripe_event("refund.updated", refund()))
    assert response.status_code == 200
    assert response.json["result"] == "queued"
    assert stored(app)[0].result == "unmatched"
