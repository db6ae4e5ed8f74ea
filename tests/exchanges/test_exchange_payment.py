"""Paying a dearer variant's difference at a Stripe Checkout Session (the loopback fake,
through the real `stripe` client): the session is created once, with the RMA in its
metadata; `checkout.session.completed` lets the exchange go on, `checkout.session.expired`
ends it and gives the stock back; redeliveries and late events change nothing, and a
difference paid after the exchange ended is refunded once."""

from __future__ import annotations

from typing import Any

import pytest

from returns_service.db import db
from returns_service.exchanges import payment
from returns_service.exchanges.models import Exchange
from returns_service.payments.stripe import SERVICE_METADATA_KEY
from returns_service.refunds.models import Refund
from returns_service.returns.models import Return
from tests.exchanges.conftest import exchange, stock_of
from tests.exchanges.test_exchanges import receive
from tests.support.stripe import API_KEY, WEBHOOK_SECRET, post_webhook, stripe_event


@pytest.fixture
def app_config(app_config: dict[str, Any], fake_checkout: Any) -> dict[str, Any]:
    app_config.update(STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=fake_checkout.url,
                      STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    return app_config


def _session(app: Any, rma: str) -> tuple[int, str]:
    with app.app_context():
        row = db.session.query(Exchange).one()
        url = payment.checkout_url(row.id, rma=rma, success_url="http://returns.test/ok",
                                   cancel_url="http://returns.test/back")
        row = db.session.query(Exchange).one()
        return row.id, row.checkout_session_id or url


def test_the_session_is_created_once_for_the_difference_with_the_rma(
        app, api, shirt_order, fake_checkout) -> None:
    rma = shirt_order()
    assert exchange(api, rma, "SHIRT-XL").json["status"] == "awaiting_payment"
    exchange_id, session_id = _session(app, rma)
    _session(app, rma)  # asked again: the same page
    session = fake_checkout.sessions[session_id]
    assert session["mode"] == "payment" and session["amount_total"] == 500
    assert session["metadata"] == {"rma": rma, "exchange_id": str(exchange_id),
                                   SERVICE_METADATA_KEY: "1"}
    assert [p for m, p in fake_checkout.requests if m == "POST"] == ["/v1/checkout/sessions"]


def test_a_paid_session_lets_the_exchange_go_on_once(app, api, client, shirt_order,
                                                     fake_checkout) -> None:
    rma = shirt_order()
    exchange(api, rma, "SHIRT-XL")
    _, session_id = _session(app, rma)
    paid = fake_checkout.complete(session_id, payment_intent="pi_diff_1",
                                  email="jane@example.com", name="Jane Doe")
    event = stripe_event("checkout.session.completed", paid)
    assert post_webhook(client, event).json["result"] == "applied"
    assert post_webhook(client, event).json["result"] == "duplicate"
    expired_late = stripe_event("checkout.session.expired", fake_checkout.expire(session_id))
    assert post_webhook(client, expired_late).json["result"] == "ignored"
    assert stock_of(api, "SHIRT-XL")["reserved"] == 1
    received = receive(api, rma)
    assert received["refunds"] == []  # the shirt is exchanged, not refunded
    assert [o["sku"] for o in api.get("/api/v1/exchange-orders", as_="integration").json] == [
        "SHIRT-XL"]


def test_an_expired_session_ends_the_exchange_and_says_so(app, api, client, shirt_order,
                                                          fake_checkout) -> None:
    rma = shirt_order()
    exchange(api, rma, "SHIRT-XL")
    _, session_id = _session(app, rma)
    expired = stripe_event("checkout.session.expired", fake_checkout.expire(session_id))
    assert post_webhook(client, expired).json["result"] == "applied"
    assert stock_of(api, "SHIRT-XL")["reserved"] == 0
    with app.app_context():
        assert db.session.query(Exchange).one().status == "expired"
    from returns_service.returns.links import status_token
    with app.app_context():
        token = status_token(rma)
    page = client.get(f"/returns/status/{token}").get_data(as_text=True)
    assert "The payment page expired before the difference was paid" in page
    # Paid after all, too late: the exchange stays expired and the payment is refunded, once.
    late = fake_checkout.complete(session_id, payment_intent="pi_late", email="j@x.test",
                                  name="Jane")
    event = stripe_event("checkout.session.completed", late)
    assert post_webhook(client, event).json["result"] == "refunded"
    assert post_webhook(client, event).json["result"] == "duplicate"
    again = stripe_event("checkout.session.completed", late)  # same payment, a new event id
    assert post_webhook(client, again).json["result"] == "refunded"
    with app.app_context():
        row = db.session.query(Exchange).one()
        assert row.status == "expired"
        assert [(r.amount, r.payment_intent, r.idempotency_key, r.return_id)
                for r in db.session.query(Refund).all()] == [
            (500, "pi_late", f"exchange-{row.id}-difference-refund", None)]
    # Another payment for the same exchange is left to a person.
    other = stripe_event("checkout.session.completed", {**late, "payment_intent": "pi_other"})
    assert post_webhook(client, other).json["result"] == "flagged"
    detail = api.get(f"/api/v1/returns/{rma}", as_="agent").json
    assert detail["needs_review"] is True
    assert "paid €5.00" in detail["review_reason"] and "pi_other" in detail["review_reason"]
    assert [r["amount"] for r in receive(api, rma)["refunds"]] == [2500]


def test_a_paid_difference_is_refunded_once_when_the_return_is_cancelled(
        app, api, client, shirt_order, fake_checkout) -> None:
    from returns_service.exchanges import services

    rma = shirt_order()
    exchange(api, rma, "SHIRT-XL")
    _, session_id = _session(app, rma)
    paid = fake_checkout.complete(session_id, payment_intent="pi_diff_9",
                                  email="jane@example.com", name="Jane Doe")
    post_webhook(client, stripe_event("checkout.session.completed", paid))
    assert api.post(f"/api/v1/returns/{rma}/cancel", as_="agent", json={}).status_code == 200
    with app.app_context():
        row = db.session.query(Exchange).one()
        assert row.status == "cancelled"
        assert services.end_exchange(row, "cancel") is False  # ending it again: nothing
        db.session.commit()
        refunds = db.session.query(Refund).all()
        assert [(r.amount, r.currency, r.payment_intent, r.idempotency_key, r.return_id)
                for r in refunds] == [(500, "EUR", "pi_diff_9",
                                       f"exchange-{row.id}-difference-refund", None)]
    assert stock_of(api, "SHIRT-XL")["reserved"] == 0


def _poll(app: Any, hours: int) -> int:
    from datetime import timedelta

    from returns_service.common.clock import utcnow

    with app.app_context():
        return payment.poll_stale(utcnow() + timedelta(hours=hours))


def test_sessions_the_webhook_never_reported_are_read_at_stripe(app, api, shirt_order,
                                                                fake_checkout) -> None:
    expired_rma, paid_rma, unopened_rma = (shirt_order(n) for n in ("A1", "A2", "A3"))
    for rma in (expired_rma, paid_rma, unopened_rma):
        assert exchange(api, rma, "SHIRT-XL").json["status"] == "awaiting_payment"
    assert stock_of(api, "SHIRT-XL")["reserved"] == 3
    sessions = {}
    for rma in (expired_rma, paid_rma):  # each customer opened the payment page
        with app.app_context():
            row = db.session.query(Exchange).join(Return).filter(Return.rma == rma).one()
            payment.checkout_url(row.id, rma=rma, success_url="http://returns.test/ok",
                                 cancel_url="http://returns.test/back")
            sessions[rma] = db.session.get(Exchange, row.id).checkout_session_id
    fake_checkout.expire(sessions[expired_rma])  # the webhooks are lost
    fake_checkout.complete(sessions[paid_rma], payment_intent="pi_lost_hook",
                           email="jane@example.com", name="Jane Doe")
    assert _poll(app, 1) == 0  # too early: the webhook may still come
    assert _poll(app, 26) == 3
    assert _poll(app, 27) == 0
    with app.app_context():
        statuses = {r.checkout_session_id: (r.status, r.payment_intent)
                    for r in db.session.query(Exchange)}
    assert statuses == {sessions[expired_rma]: ("expired", None),
                        sessions[paid_rma]: ("requested", "pi_lost_hook"),
                        None: ("expired", None)}
    assert stock_of(api, "SHIRT-XL")["reserved"] == 1  # only the paid one holds its size
