"""POST /webhooks/stripe: signed events move refunds forward, once, and never backwards."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.payments.models import StripeEvent
from returns_service.refunds.models import Refund
from returns_service.returns.models import ReturnEvent
from tests.support.stripe import (
    API_KEY,
    post_webhook,
    refund_object,
    sign,
    stripe_event,
)

PI = "pi_test_A1001"  # the payment intent of the default test order


def ours(pending: dict[str, Any], status: str, refund_id: str = "re_ours_1",
         **kw: Any) -> dict[str, Any]:
    return refund_object(refund_id, amount=pending["amount"], payment_intent=PI, status=status,
                         metadata={"rma": pending["rma"],
                                   "refund_id": str(pending["refund_id"])}, **kw)


def shown(api: Any, rma: str) -> dict[str, Any]:
    return api.get(f"/api/v1/returns/{rma}", as_="agent").json


def event_count(app: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(StripeEvent.id)))


# --- verification ----------------------------------------------------------------------

def test_bad_signature_is_rejected_before_anything_is_stored(app, client, pending):
    event = stripe_event("refund.updated", ours(pending, "succeeded"))
    response = post_webhook(client, event, secret="whsec_not_ours")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "signature" in response.json["detail"].lower()
    assert event_count(app) == 0


def test_stale_timestamp_is_rejected(app, client, api, pending):
    event = stripe_event("refund.updated", ours(pending, "succeeded"))
    response = post_webhook(client, event, timestamp=int(time.time()) - 3600)
    assert response.status_code == 400
    assert "tolerance" in response.json["detail"].lower()
    assert event_count(app) == 0
    assert shown(api, pending["rma"])["status"] == "refund_pending"


def test_missing_signature_is_rejected(app, client):
    response = client.post("/webhooks/stripe", data=b"{}",
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_malformed_json_with_a_good_signature_is_rejected(app, client):
    body = b'{"id": "evt_1", "type": "refund.updated", "data": {'
    response = post_webhook(client, body)
    assert response.status_code == 400
    assert "json" in response.json["detail"].lower()
    assert event_count(app) == 0


def test_signed_body_that_is_not_an_event_is_rejected(app, client):
    response = post_webhook(client, json.dumps(["not", "an", "event"]).encode())
    assert response.status_code == 400
    assert event_count(app) == 0


def test_body_changed_after_signing_is_rejected(app, client, pending):
    body = json.dumps(stripe_event("refund.updated", ours(pending, "succeeded"))).encode()
    header = sign(body)
    response = post_webhook(client, body.replace(b"2500", b"9999"), signature=header)
    assert response.status_code == 400
    assert event_count(app) == 0


def test_without_a_configured_secret_stripe_is_asked_to_retry(app, client):
    app.config["STRIPE_WEBHOOK_SECRET"] = None
    response = post_webhook(client, stripe_event("refund.updated", {"id": "re_1"}))
    assert response.status_code == 503
    assert event_count(app) == 0


# --- our refunds -------------------------------------------------------------------------

def test_success_event_marks_the_return_refunded_once(app, client, api, pending):
    event = stripe_event("refund.updated", ours(pending, "succeeded"))
    first = post_webhook(client, event)
    again = post_webhook(client, event)

    assert first.status_code == 200 and first.json["result"] == "queued"
    assert again.status_code == 200 and again.json["result"] == "duplicate"
    ret = shown(api, pending["rma"])
    assert ret["status"] == "refunded"
    assert [(r["status"], r["provider_refund_id"]) for r in ret["refunds"]] == [
        ("succeeded", "re_ours_1")]
    assert event_count(app) == 1
    events = api.get(f"/api/v1/returns/{pending['rma']}/events", as_="agent").json
    assert [e["to_status"] for e in events].count("refunded") == 1


def test_out_of_order_events_never_move_backwards(app, client, api, pending):
    post_webhook(client, stripe_event("refund.updated", ours(pending, "succeeded")))
    late_created = post_webhook(client, stripe_event("refund.created", ours(pending, "pending")))
    late_update = post_webhook(client, stripe_event("charge.refund.updated",
                                                    ours(pending, "requires_action")))

    assert late_created.status_code == late_update.status_code == 200
    ret = shown(api, pending["rma"])
    assert ret["status"] == "refunded"
    assert ret["refunds"][0]["status"] == "succeeded"
    assert ret["needs_review"] is False


def test_requires_action_then_pending_keeps_requires_action(client, api, pending):
    post_webhook(client, stripe_event("refund.updated", ours(pending, "requires_action")))
    post_webhook(client, stripe_event("refund.created", ours(pending, "pending")))
    ret = shown(api, pending["rma"])
    assert ret["status"] == "refund_pending"
    assert ret["refunds"][0]["status"] == "requires_action"


def test_failure_after_success_asks_a_person_instead_of_changing_anything(client, api,
                                                                          pending):
    post_webhook(client, stripe_event("refund.updated", ours(pending, "succeeded")))
    post_webhook(client, stripe_event("refund.failed", ours(
        pending, "failed", failure_reason="expired_or_canceled_card")))
    ret = shown(api, pending["rma"])
    assert ret["status"] == "refunded"
    assert ret["refunds"][0]["status"] == "succeeded"
    assert ret["needs_review"] is True
    assert "expired_or_canceled_card" in ret["review_reason"]


def test_failed_refund_can_be_retried_with_a_new_key(app, client, api, pending):
    post_webhook(client, stripe_event("refund.failed", ours(
        pending, "failed", failure_reason="expired_or_canceled_card")))
    failed = shown(api, pending["rma"])
    assert failed["status"] == "refund_failed"
    assert "retry_refund" in failed["allowed_actions"]
    assert "expired_or_canceled_card" in failed["refunds"][0]["failure_message"]

    assert api.post(f"/api/v1/returns/{pending['rma']}/refund/retry", as_="warehouse",
                    json={}).status_code == 403
    retried = api.post(f"/api/v1/returns/{pending['rma']}/refund/retry", as_="agent",
                       json={"note": "Customer phoned; card details confirmed."})
    assert retried.status_code == 200, retried.json
    assert retried.json["status"] == "refund_pending"
    trail = api.get(f"/api/v1/returns/{pending['rma']}/events", as_="agent").json
    assert [(e["kind"], e["note"], e["customer_visible"]) for e in trail
            if e["trigger"] == "retry_refund"] == [
        ("status", None, True), ("note", "Customer phoned; card details confirmed.", False)]
    assert [(r["attempt"], r["status"], r["amount"]) for r in retried.json["refunds"]] == [
        (1, "failed", 2500), (2, "pending", 2500)]
    with app.app_context():
        keys = db.session.scalars(select(Refund.idempotency_key).order_by(Refund.id)).all()
    assert keys == [f"refund-{pending['rma']}-1", f"refund-{pending['rma']}-2"]

    again = api.post(f"/api/v1/returns/{pending['rma']}/refund/retry", as_="agent", json={})
    assert again.status_code == 409
    assert again.json["current_status"] == "refund_pending"


def test_retry_needs_the_current_version(client, api, pending):
    post_webhook(client, stripe_event("refund.failed", ours(pending, "failed")))
    version = shown(api, pending["rma"])["version"]
    stale = api.post(f"/api/v1/returns/{pending['rma']}/refund/retry", as_="agent",
                     json={"expected_version": version - 1})
    assert stale.status_code == 409


def test_refund_made_outside_stripe_is_recorded(client, api, pending):
    rma = pending["rma"]
    pending_manual = api.post(f"/api/v1/returns/{rma}/refund/manual", as_="agent",
                              json={"amount": 2500, "reference": "SEPA-1"})
    assert pending_manual.status_code == 409  # a Stripe refund is still under way

    post_webhook(client, stripe_event("refund.failed", ours(pending, "failed")))
    assert api.post(f"/api/v1/returns/{rma}/refund/manual", as_="warehouse",
                    json={"amount": 2500, "reference": "SEPA-1"}).status_code == 403
    too_much = api.post(f"/api/v1/returns/{rma}/refund/manual", as_="agent",
                        json={"amount": 15001, "reference": "SEPA-1"})
    assert too_much.status_code == 422
    assert "150.00" in too_much.json["errors"]["amount"][0]
    no_ref = api.post(f"/api/v1/returns/{rma}/refund/manual", as_="agent",
                      json={"amount": 2500})
    assert no_ref.status_code == 422 and "reference" in no_ref.json["errors"]

    done = api.post(f"/api/v1/returns/{rma}/refund/manual", as_="agent",
                    json={"amount": 2500, "reference": "SEPA-2026-0042",
                          "note": "Paid back by bank transfer."})
    assert done.status_code == 200, done.json
    assert done.json["status"] == "refunded"
    manual = done.json["refunds"][-1]
    assert (manual["origin"], manual["status"], manual["amount"], manual["reference"]) == (
        "manual", "succeeded", 2500, "SEPA-2026-0042")


# --- refunds made in the Stripe dashboard --------------------------------------------------

def dashboard_refund(amount: int = 2500, refund_id: str = "re_dash_1",
                     status: str = "succeeded") -> dict[str, Any]:
    return refund_object(refund_id, amount=amount, payment_intent=PI, status=status)


def test_dashboard_refund_is_matched_by_payment_and_recorded_once(app, client, api, pending):
    post_webhook(client, stripe_event("refund.created", dashboard_refund()))
    charge = {"id": "ch_1", "object": "charge", "payment_intent": PI, "amount_refunded": 2500,
              "refunds": {"object": "list", "data": [dashboard_refund()]}}
    post_webhook(client, stripe_event("charge.refunded", charge))
    post_webhook(client, stripe_event("refund.updated", dashboard_refund()))

    ret = shown(api, pending["rma"])
    assert ret["status"] == "refunded"
    by_origin = {r["origin"]: r for r in ret["refunds"]}
    assert len(ret["refunds"]) == 2
    assert by_origin["external"]["provider_refund_id"] == "re_dash_1"
    assert by_origin["external"]["status"] == "succeeded"
    # Ours had not been sent yet: it is withdrawn, so the customer is not paid twice.
    assert by_origin["service"]["status"] == "canceled"
    assert by_origin["service"]["failure_reason"] == "refunded_outside"
    with app.app_context():
        from returns_service.refunds.services import execute_refund

        assert execute_refund(pending["refund_id"]) == "nothing to do"


def test_pending_dashboard_refund_moves_the_return_when_it_succeeds(client, api, pending):
    post_webhook(client, stripe_event("refund.created", dashboard_refund(status="pending")))
    assert shown(api, pending["rma"])["status"] == "refund_pending"
    post_webhook(client, stripe_event("refund.updated", dashboard_refund()))
    assert shown(api, pending["rma"])["status"] == "refunded"


def test_extra_dashboard_refund_after_ours_is_flagged(client, api, pending):
    post_webhook(client, stripe_event("refund.updated", ours(pending, "succeeded")))
    post_webhook(client, stripe_event("refund.created", dashboard_refund(refund_id="re_dash_2")))
    ret = shown(api, pending["rma"])
    assert ret["status"] == "refunded"
    assert ret["needs_review"] is True
    assert "re_dash_2" in ret["review_reason"]


def test_dashboard_refund_before_any_return_lowers_what_can_be_refunded(client, api,
                                                                       make_order):
    make_order("A1001")
    post_webhook(client, stripe_event("refund.created", dashboard_refund(amount=14000)))
    created = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": "JEANS", "quantity": 1, "reason": "doesnt_fit"}]}).json
    api.post(f"/api/v1/returns/{created['rma']}/approve", as_="agent", json={})
    received = api.post(f"/api/v1/returns/{created['rma']}/receive", as_="warehouse", json={
        "items": [{"sku": "JEANS", "quantity": 1, "condition": "resellable"}]}).json
    assert received["refund"]["total"] == 1000  # 15,000 paid - 14,000 already refunded


# --- disputes and everything else ----------------------------------------------------------

def test_dispute_flags_the_return_once(app, client, api, pending):
    dispute = {"id": "dp_1", "object": "dispute", "amount": 15000, "currency": "eur",
               "charge": "ch_1", "payment_intent": PI, "reason": "fraudulent",
               "status": "needs_response"}
    event = stripe_event("charge.dispute.created", dispute)
    assert post_webhook(client, event).status_code == 200
    assert post_webhook(client, event).json["result"] == "duplicate"

    ret = shown(api, pending["rma"])
    assert ret["needs_review"] is True
    assert "dp_1" in ret["review_reason"] and "fraudulent" in ret["review_reason"]
    assert ret["status"] == "refund_pending"
    with app.app_context():
        flags = db.session.scalar(select(func.count(ReturnEvent.id)).where(
            ReturnEvent.kind == "flag"))
    assert flags == 1


def test_unknown_event_types_are_recorded_and_ignored(app, client, api, pending):
    response = post_webhook(client, stripe_event("customer.created", {"id": "cus_1"}))
    assert response.status_code == 200 and response.json["result"] == "ignored"
    with app.app_context():
        row = db.session.scalar(select(StripeEvent))
        assert (row.type, row.result) == ("customer.created", "ignored")
    assert shown(api, pending["rma"])["status"] == "refund_pending"


def test_refund_for_a_payment_we_do_not_know_is_recorded_as_unmatched(app, client):
    other = refund_object("re_x", amount=100, payment_intent="pi_someone_else")
    assert post_webhook(client, stripe_event("refund.created", other)).status_code == 200
    with app.app_context():
        row = db.session.scalar(select(StripeEvent))
        assert row.result == "unmatched"
        assert db.session.scalar(select(func.count(Refund.id))) == 0


def test_retry_after_a_partial_dashboard_refund_pays_only_the_rest(app, client, api,
                                                                   pending):
    post_webhook(client, stripe_event("refund.failed", ours(pending, "failed")))
    post_webhook(client, stripe_event("refund.created", dashboard_refund(amount=1000)))
    flagged = shown(api, pending["rma"])
    assert flagged["status"] == "refund_failed" and flagged["needs_review"] is True

    retried = api.post(f"/api/v1/returns/{pending['rma']}/refund/retry", as_="agent", json={})
    assert retried.status_code == 200, retried.json
    assert [(r["origin"], r["status"], r["amount"]) for r in retried.json["refunds"]] == [
        ("service", "failed", 2500), ("external", "succeeded", 1000),
        ("service", "pending", 1500)]


@pytest.mark.parametrize(("outside", "status"), [(1000, "succeeded"), (2500, "pending")],
                         ids=["partial dashboard refund", "full one still pending"])
def test_unsent_refund_is_withheld_when_the_dashboard_refunds_first(
        app, client, api, pending, stub_stripe, outside, status):
    """Our job had not run yet (worker backlog, Redis down): it must not pay again."""
    post_webhook(client, stripe_event("refund.created",
                                      dashboard_refund(amount=outside, status=status)))
    app.config.update(STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=stub_stripe.url)
    with app.app_context():
        from returns_service.refunds.services import execute_refund

        assert execute_refund(pending["refund_id"]) == "canceled"
    assert stub_stripe.creates() == []
    held = shown(api, pending["rma"])
    assert held["status"] == "refund_failed"
    assert [(r["origin"], r["status"]) for r in held["refunds"]] == [
        ("service", "canceled"), ("external", status)]
    assert held["refunds"][0]["failure_reason"] == "refunded_outside"
    if status == "pending":  # the dashboard refund goes through: nothing more is owed
        retry = api.post(f"/api/v1/returns/{pending['rma']}/refund/retry", as_="agent",
                         json={})
        assert retry.status_code == 422
        assert "cover what it is owed" in retry.json["errors"]["amount"][0]
        post_webhook(client, stripe_event("refund.updated", dashboard_refund()))
        assert shown(api, pending["rma"])["status"] == "refunded"
        return
    retried = api.post(f"/api/v1/returns/{pending['rma']}/refund/retry", as_="agent", json={})
    assert retried.status_code == 200, retried.json
    retry = retried.json["refunds"][-1]
    assert retry["amount"] == 2500 - outside
    # Its job ran after the commit (in-process here): the retry's amount already leaves the
    # dashboard refund out, so it is sent, not withheld.
    assert [int(s.form["amount"]) for s in stub_stripe.creates()] == [2500 - outside]
    assert shown(api, pending["rma"])["status"] == "refunded"


def test_dashboard_refunds_adding_up_to_what_is_owed_refund_the_return(client, api, pending):
    post_webhook(client, stripe_event("refund.failed", ours(pending, "failed")))
    post_webhook(client, stripe_event("refund.created", dashboard_refund(amount=1000)))
    assert shown(api, pending["rma"])["status"] == "refund_failed"
    post_webhook(client, stripe_event("refund.created",
                                      dashboard_refund(amount=1500, refund_id="re_dash_2")))
    ret = shown(api, pending["rma"])
    assert ret["status"] == "refunded"
    assert sum(r["amount"] for r in ret["refunds"] if r["status"] == "succeeded") == 2500


def test_ours_failing_after_a_full_dashboard_refund_leaves_the_return_refunded(
        app, client, api, pending):
    with app.app_context():  # ours was sent: Stripe has it as pending
        db.session.get(Refund, pending["refund_id"]).submitted_at = utcnow()
        db.session.commit()
    post_webhook(client, stripe_event("refund.created", ours(pending, "pending")))
    post_webhook(client, stripe_event("refund.created", dashboard_refund()))
    assert shown(api, pending["rma"])["needs_review"] is True  # both may have been paid
    post_webhook(client, stripe_event("refund.failed", ours(pending, "failed")))
    ret = shown(api, pending["rma"])
    assert ret["status"] == "refunded"
    assert [(r["origin"], r["status"]) for r in ret["refunds"]] == [
        ("service", "failed"), ("external", "succeeded")]


def test_webhooks_and_refund_outcomes_are_counted_in_metrics(client, pending):
    from tests.reports.test_metrics import scrape

    post_webhook(client, stripe_event("refund.updated", ours(pending, "succeeded")))
    post_webhook(client, stripe_event("refund.updated", ours(pending, "succeeded")),
                 secret="whsec_wrong")
    samples = scrape(client)
    assert samples[("returns_webhook_events_total",
                    (("result", "queued"), ("type", "refund.updated")))] == 1
    assert samples[("returns_webhook_events_total",
                    (("result", "rejected"), ("type", "unverified")))] == 1
    assert samples[("returns_refund_outcomes_total", (("outcome", "succeeded"),))] == 1


# --- ids that are not ours ------------------------------------------------------------------

@pytest.mark.parametrize("foreign_id", ["12345678901", "99999999999999999999999", "2147483648",
                                        "0", "\u00b2", "1e3"])
def test_a_foreign_refund_id_in_metadata_is_unmatched_not_a_crash(app, client, api, pending,
                                                                  foreign_id):
    """Another integration's refund ids (11+ digits) in metadata.refund_id: the event is
    applied (by payment intent, as a dashboard refund), never left failing for the relay."""
    obj = refund_object("re_other_1", amount=2500, payment_intent=PI,
                        metadata={"refund_id": foreign_id})
    assert post_webhook(client, stripe_event("refund.updated", obj)).status_code == 200
    with app.app_context():
        row = db.session.scalar(select(StripeEvent))
        assert row.processed_at is not None
        assert row.result == "applied", row.detail
        assert "dashboard refund re_other_1" in row.detail
    ret = shown(api, pending["rma"])
    assert ret["status"] == "refunded"
    assert {r["origin"] for r in ret["refunds"]} == {"service", "external"}
