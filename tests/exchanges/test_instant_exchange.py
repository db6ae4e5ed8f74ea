"""Instant exchange: the customer saves a card (a Checkout Session in setup mode at the loopback
fake, through the real `stripe` client), the new item is ordered at approval, once, and the
card is charged the original's value, off session and once, only if the original has not
arrived by the policy's day; a declined charge goes to staff."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.exchanges import instant
from returns_service.exchanges.models import Exchange
from returns_service.notifications.models import Notification
from returns_service.returns.links import status_token
from tests.exchanges.conftest import EXCHANGE_POLICY, exchange
from tests.support.stripe import API_KEY, WEBHOOK_SECRET, post_webhook, stripe_event

INSTANT_POLICY = EXCHANGE_POLICY + "instant = true\ninstant_days = 21\n"


def instant_config(app_config: dict[str, Any], fake_checkout: Any) -> dict[str, Any]:
    """Instant exchange on, Stripe at the fake."""
    with open(app_config["RETURN_POLICY_FILE"], "w") as policy:
        policy.write(INSTANT_POLICY)
    app_config.update(STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=fake_checkout.url,
                      STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    return app_config


@pytest.fixture
def app_config(app_config: dict[str, Any], fake_checkout: Any) -> dict[str, Any]:
    return instant_config(app_config, fake_checkout)


def row(app: Any) -> Exchange:
    with app.app_context():
        found = db.session.query(Exchange).one()
        db.session.expunge(found)
        return found


def save_card(app: Any, client: Any, fake: Any, rma: str, *, declines: bool = False) -> Any:
    """The customer opens the card page and saves a card; Stripe tells the service."""
    with app.app_context():
        exchange_id = db.session.query(Exchange.id).scalar()
        instant.card_url(exchange_id, rma=rma, email="jane@example.com",
                         success_url="http://returns.test/ok", cancel_url="http://returns.test/")
    session_id = row(app).card_session_id
    done = fake.complete_setup(session_id, declines=declines)
    return post_webhook(client, stripe_event("checkout.session.completed", done))


def orders(api: Any) -> list[dict[str, Any]]:
    return api.get("/api/v1/exchange-orders", as_="integration").json


def approve(api: Any, rma: str) -> None:
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200


def ship(api: Any) -> None:
    (order,) = orders(api)
    assert api.post(f"/api/v1/exchange-orders/{order['id']}/shipped", as_="integration",
                    json={"tracking_number": "1Z1"}).status_code == 200


def charge_pass(app: Any, days: int) -> int:
    """A scheduler pass `days` from now: charge jobs queued (run after its commit)."""
    with app.app_context():
        return instant.queue_due_charges(utcnow() + timedelta(days=days))


def status_page(app: Any, client: Any, rma: str) -> str:
    with app.app_context():
        token = status_token(rma)
    return client.get(f"/returns/status/{token}").get_data(as_text=True)


@pytest.fixture
def shipped_instant(app, api, client, shirt_order, fake_checkout) -> Any:
    """An instant M → L exchange: card saved, approved, the new item shipped."""
    def make(*, declines: bool = False) -> str:
        rma = shirt_order()
        assert exchange(api, rma, "SHIRT-L").json["status"] == "requested"
        assert save_card(app, client, fake_checkout, rma, declines=declines).json[
            "result"] == "applied"
        approve(api, rma)
        ship(api)
        return rma
    return make


def test_the_card_is_saved_in_setup_mode_and_the_order_made_once_at_approval(
        app, api, client, shirt_order, fake_checkout) -> None:
    rma = shirt_order()
    requested = exchange(api, rma, "SHIRT-L").json
    assert (requested["instant"], requested["card_saved_at"], requested["charge_due_at"]) == (
        True, None, None)
    assert "save a card and we send the new item as soon as your return is approved" in \
        status_page(app, client, rma)
    result = save_card(app, client, fake_checkout, rma)
    assert result.json["result"] == "applied"
    saved = row(app)
    session = fake_checkout.sessions[saved.card_session_id]
    assert (session["mode"], session["customer"], session["metadata"]["rma"]) == (
        "setup", saved.stripe_customer, rma)
    assert saved.payment_method in fake_checkout.payment_methods
    assert orders(api) == []  # not approved yet: nothing is sent
    assert "Your card is saved. We send the new item as soon as your return is approved" in \
        status_page(app, client, rma)

    approve(api, rma)
    (order,) = orders(api)
    assert (order["sku"], order["status"]) == ("SHIRT-L", "pending")
    assert row(app).status == "ordered"
    # Stripe redelivers, or sends the completion again: still one order, no charge.
    done = fake_checkout.sessions[saved.card_session_id]
    assert post_webhook(client, stripe_event("checkout.session.completed", done)).json[
        "result"] == "ignored"
    assert len(orders(api)) == 1 and fake_checkout.charges() == []
    page = status_page(app, client, rma)
    assert "Your card is saved. It is charged €25.00 only if the item you send back has " \
           "not arrived by" in page
    with app.app_context():
        steps = [n.step for n in db.session.query(Notification).order_by(Notification.id)]
    assert steps.count("exchange_instant_ordered") == 1


def test_approved_first_the_order_follows_the_saved_card(app, api, client, shirt_order,
                                                         fake_checkout) -> None:
    rma = shirt_order()
    exchange(api, rma, "SHIRT-L")
    approve(api, rma)
    assert orders(api) == []  # no card yet: the exchange waits for the parcel, or the card
    save_card(app, client, fake_checkout, rma)
    assert [o["sku"] for o in orders(api)] == ["SHIRT-L"]


def test_the_original_received_in_time_means_no_charge(app, api, client, shipped_instant,
                                                       fake_checkout) -> None:
    rma = shipped_instant()
    received = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT-M", "quantity": 1, "condition": "resellable"}]})
    assert received.status_code == 200, received.json
    assert received.json["refunds"] == []  # exchanged, not refunded
    assert charge_pass(app, 30) == 0
    assert fake_checkout.charges() == [] and fake_checkout.payment_intents == {}
    assert row(app).status == "shipped"
    assert "Your parcel arrived: your saved card will not be charged." in \
        status_page(app, client, rma)


def test_an_original_not_received_is_charged_once_off_session(app, api, client,
                                                              shipped_instant,
                                                              fake_checkout) -> None:
    rma = shipped_instant()
    assert charge_pass(app, 20) == 0  # not due yet
    assert charge_pass(app, 22) == 1
    assert charge_pass(app, 23) == 0  # charged: nothing more to queue
    (charge,) = fake_checkout.charges()
    charged = row(app)
    assert (charge["amount"], charge["currency"], charge["off_session"],
            charge["customer"], charge["payment_method"]) == (
        2500, "eur", True, charged.stripe_customer, charged.payment_method)
    assert (charged.status, charged.charge_payment_intent) == (
        "charged_for_missing_item", charge["id"])
    with app.app_context():  # the job again (a redelivered message): nothing happens
        assert instant.charge_missing_item(charged.id) == "nothing to charge"
        steps = [n.step for n in db.session.query(Notification)]
    assert len(fake_checkout.payment_intents) == 1 and steps.count("exchange_charged") == 1
    assert "your saved card was charged €25.00" in status_page(app, client, rma)


def test_a_declined_charge_flags_the_return_for_staff(app, api, shipped_instant,
                                                      fake_checkout) -> None:
    rma = shipped_instant(declines=True)
    assert charge_pass(app, 22) == 1
    assert fake_checkout.charges() == []
    declined = row(app)
    assert declined.status == "shipped" and "card_declined" in declined.charge_error
    detail = api.get(f"/api/v1/returns/{rma}", as_="agent").json
    assert detail["needs_review"] is True
    assert "charging the saved card €25.00 failed" in detail["review_reason"]
    assert charge_pass(app, 30) == 0  # not tried again: a person takes it from here


@pytest.mark.postgres
def test_concurrent_charge_jobs_charge_once(app, api, shipped_instant, fake_checkout) -> None:
    shipped_instant()
    exchange_id = row(app).id
    with app.app_context():  # due, without the in-process job
        db.session.query(Exchange).update({"charge_due_at": utcnow() - timedelta(days=1)})
        db.session.commit()
    barrier, results = threading.Barrier(6), []

    def run() -> None:
        with app.app_context():
            barrier.wait()
            results.append(instant.charge_missing_item(exchange_id))
            db.session.commit()

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count("charged") == 1, results
    assert len(fake_checkout.charges()) == 1
    assert row(app).status == "charged_for_missing_item"


@pytest.mark.postgres
def test_approval_and_the_saved_card_at_once_order_once(app, api, client, shirt_order,
                                                        fake_checkout) -> None:
    """Whichever commits first, the other sees it: one order, never none."""
    rma = shirt_order()
    exchange(api, rma, "SHIRT-L")
    with app.app_context():
        exchange_id = db.session.query(Exchange.id).scalar()
        instant.card_url(exchange_id, rma=rma, email="jane@example.com",
                         success_url="http://returns.test/ok", cancel_url="http://returns.test/")
    done = fake_checkout.complete_setup(row(app).card_session_id)
    barrier, answers = threading.Barrier(2), {}

    def approve_now() -> None:
        with app.test_client() as own:
            barrier.wait()
            answers["approve"] = own.post(
                f"/api/v1/returns/{rma}/approve", json={},
                headers={"Authorization": f"Bearer {api.tokens['agent']}"}).status_code

    def card_saved() -> None:
        with app.test_client() as own:
            barrier.wait()
            answers["webhook"] = post_webhook(
                own, stripe_event("checkout.session.completed", done)).status_code

    threads = [threading.Thread(target=approve_now), threading.Thread(target=card_saved)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {"approve": 200, "webhook": 200}
    assert [o["sku"] for o in orders(api)] == ["SHIRT-L"]
    assert row(app).status == "ordered"


def test_staff_see_the_card_and_the_charge_on_the_return_page(app, api, client,
                                                              shipped_instant,
                                                              fake_checkout) -> None:
    from tests.support.console import login

    rma = shipped_instant()
    login(client, "agent")
    page = client.get(f"/staff/returns/{rma}").get_data(as_text=True)
    assert "card saved; charged €25.00 if the original has not arrived by" in page
    charge_pass(app, 22)
    page = client.get(f"/staff/returns/{rma}").get_data(as_text=True)
    assert f"card charged €25.00 ({row(app).charge_payment_intent})" in page
    # The exchange-order email and the charge email are on the staff timeline.
    notes = [e.get("note") or "" for e in api.get(f"/api/v1/returns/{rma}/events",
                                                  as_="agent").json]
    assert any(n.startswith("Email queued: Your exchange for return") for n in notes)
    assert any("your card was charged" in n for n in notes)


def test_an_original_arriving_after_the_charge_is_refunded_like_any_returned_line(
        app, api, shipped_instant, fake_checkout) -> None:
    """Charged for the missing item, the customer then sends it after all: they paid for it
    twice (once with the order, once by the charge), so the line is refunded as any other."""
    rma = shipped_instant()
    assert charge_pass(app, 22) == 1
    received = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT-M", "quantity": 1, "condition": "resellable"}]})
    assert received.status_code == 200, received.json
    assert [r["amount"] for r in received.json["refunds"]] == [2500]
    assert row(app).status == "charged_for_missing_item"  # the charge itself stands
    assert len(fake_checkout.charges()) == 1
