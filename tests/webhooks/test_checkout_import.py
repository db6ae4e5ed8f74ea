"""Orders from Stripe Checkout (STRIPE_IMPORT_ORDERS): `checkout.session.completed` on the
Stripe webhook imports the session's order, its line items listed through the real `stripe`
client (page after page) from a loopback fake of the Checkout endpoints. End to end, the
imported order is returned and refunded at localstripe, where its payment was made."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from sqlalchemy import func, select

from returns_service.db import db
from returns_service.integrations.models import CheckoutImport
from returns_service.orders.models import Order
from returns_service.payments.models import StripeEvent
from returns_service.payments.stripe import StripeCheckoutGateway
from tests.support.checkout import FakeCheckout
from tests.support.stripe import API_KEY, post_webhook, stripe_event

SHIRT = {"price_data": {"currency": "eur", "unit_amount": 2500, "product_data": {
    "name": "Shirt, size M", "metadata": {"sku": "SHIRT-M"}}}, "quantity": 2}
JEANS = {"price_data": {"currency": "eur", "unit_amount": 8000, "product_data": {
    "name": "Jeans"}}, "quantity": 1}


def checkout_session(fake: FakeCheckout, line_items: list[dict[str, Any]],
                     metadata: dict[str, str] | None = None) -> str:
    """A session as the store's checkout creates it, through the real client."""
    client = stripe.StripeClient(API_KEY, base_addresses={"api": fake.url})
    session = client.v1.checkout.sessions.create(params={
        "mode": "payment", "line_items": line_items, "metadata": metadata or {},
        "success_url": "https://shop.example/thanks"})
    return session.id


def completed(client: Any, session: dict[str, Any],
              kind: str = "checkout.session.completed") -> Any:
    response = post_webhook(client, stripe_event(kind, session))
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def app_config(app_config: dict[str, Any], fake_checkout: FakeCheckout) -> dict[str, Any]:
    app_config.update(STRIPE_IMPORT_ORDERS=True, STRIPE_API_KEY=API_KEY,
                      STRIPE_API_BASE=fake_checkout.url)
    return app_config


def order(api: Any, number: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/orders/{number}", as_="agent")
    assert response.status_code == 200, response.json
    return response.json


def test_a_completed_session_becomes_an_order(app, client, api, fake_checkout):
    session_id = checkout_session(fake_checkout, [SHIRT, JEANS], {"order_number": "CS-1001"})
    session = fake_checkout.complete(session_id, payment_intent="pi_checkout_1",
                                     email="Jane@Example.com", name="Jane Doe", shipping=490,
                                     discounts={1: 1000}, taxes={0: 0})
    assert completed(client, session)["result"] == "queued"
    imported = order(api, "CS-1001")
    assert {k: imported[k] for k in ("email", "customer_name", "currency", "shipping_total",
                                     "payment_intent", "channel", "total")} == {
        "email": "jane@example.com", "customer_name": "Jane Doe", "currency": "EUR",
        "shipping_total": 490, "payment_intent": "pi_checkout_1",
        "channel": "stripe_checkout", "total": 5000 + 7000 + 490}
    product_id = fake_checkout.line_items[session_id][1]["price"]["product"]
    assert [(line["sku"], line["name"], line["quantity"], line["unit_price"])
            for line in imported["lines"]] == [
        ("SHIRT-M", "Shirt, size M", 2, 2500), (product_id, "Jeans", 1, 7000)]


def test_import_is_idempotent_by_session(app, client, api, fake_checkout):
    session_id = checkout_session(fake_checkout, [SHIRT])
    session = fake_checkout.complete(session_id, payment_intent="pi_checkout_2",
                                     email="a@example.com", name="A")
    event = stripe_event("checkout.session.completed", session)
    assert post_webhook(client, event).json["result"] == "queued"
    assert post_webhook(client, event).json["result"] == "duplicate"
    # Another event about the same session updates the same order.
    assert completed(client, session, "checkout.session.async_payment_succeeded")[
        "result"] == "queued"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
        assert db.session.scalar(select(CheckoutImport.session_id)) == session_id
        # No order number in the metadata: the session id is the number.
        assert db.session.scalar(select(Order.number)) == session_id


def test_line_items_are_read_page_after_page(app, client, api, fake_checkout):
    fake_checkout.page_size = 2
    items = [{"price_data": {"currency": "eur", "unit_amount": 100 * (n + 1), "product_data": {
        "name": f"Item {n}", "metadata": {"sku": f"SKU-{n}"}}}, "quantity": 1}
        for n in range(5)]
    session_id = checkout_session(fake_checkout, items, {"order_number": "CS-PAGES"})
    session = fake_checkout.complete(session_id, payment_intent="pi_checkout_3",
                                     email="p@example.com", name="P")
    completed(client, session)
    assert [line["sku"] for line in order(api, "CS-PAGES")["lines"]] == [
        f"SKU-{n}" for n in range(5)]
    assert fake_checkout.pages_served == 3


def test_sessions_the_service_created_are_never_orders(app, client, api, fake_checkout):
    with app.app_context():
        own = StripeCheckoutGateway(API_KEY, fake_checkout.url).create_session(
            {"mode": "payment", "line_items": [SHIRT],
             "success_url": "https://returns.test/paid"},
            idempotency_key="exchange-R1-difference", metadata={"rma": "R1"})
    session = fake_checkout.complete(own["id"], payment_intent="pi_exchange_1",
                                     email="jane@example.com", name="Jane")
    completed(client, session)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0
        row = db.session.scalar(select(StripeEvent))
        assert (row.result, row.detail) == ("ignored",
                                            "A session this service created (not an order).")


def test_an_unpaid_session_waits_for_its_async_payment(app, client, api, fake_checkout):
    session_id = checkout_session(fake_checkout, [SHIRT], {"order_number": "CS-SEPA"})
    session = fake_checkout.complete(session_id, payment_intent="pi_sepa_1",
                                     email="s@example.com", name="S",
                                     payment_status="unpaid")
    completed(client, session)
    assert api.get("/api/v1/orders/CS-SEPA", as_="agent").status_code == 404
    completed(client, fake_checkout.pay_later(session_id, payment_intent="pi_sepa_1"),
              "checkout.session.async_payment_succeeded")
    assert order(api, "CS-SEPA")["payment_intent"] == "pi_sepa_1"


def test_without_the_setting_checkout_events_are_ignored(app, build_app, fake_checkout):
    app = build_app(STRIPE_IMPORT_ORDERS=False)  # `app` cleared the tables
    session_id = checkout_session(fake_checkout, [SHIRT], {"order_number": "CS-OFF"})
    session = fake_checkout.complete(session_id, payment_intent="pi_off_1",
                                     email="o@example.com", name="O")
    answer = post_webhook(app.test_client(), stripe_event("checkout.session.completed",
                                                          session))
    assert answer.json["result"] == "ignored"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0


class TestEndToEnd:
    """Checkout → order → return → refund at localstripe, where the payment was made."""

    @pytest.fixture
    def fake_checkout(self, localstripe: Any) -> Any:
        with FakeCheckout(upstream=localstripe.url) as fake:
            yield fake

    def test_a_checkout_order_is_returned_and_refunded(self, app, client, api, fake_checkout,
                                                       localstripe):
        session_id = checkout_session(fake_checkout, [SHIRT, JEANS],
                                      {"order_number": "CS-E2E"})
        intent = localstripe.paid_payment_intent(2 * 2500 + 8000 + 500)
        session = fake_checkout.complete(session_id, payment_intent=intent,
                                         email="jane@example.com", name="Jane Doe",
                                         shipping=500)
        completed(client, session)
        rma = api.post("/api/v1/returns", json={
            "order_number": "CS-E2E", "email": "jane@example.com",
            "items": [{"sku": "SHIRT-M", "quantity": 1, "reason": "doesnt_fit"}]}).json["rma"]
        assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent",
                        json={}).status_code == 200
        received = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
            "items": [{"sku": "SHIRT-M", "quantity": 1, "condition": "resellable"}]})
        assert received.status_code == 200, received.json
        assert api.get(f"/api/v1/returns/{rma}", as_="agent").json["status"] == "refunded"
        (refund,) = localstripe.refunds_for(intent)
        assert (refund["amount"], refund["currency"], refund["status"]) == (
            2500, "eur", "succeeded")


def test_a_session_stripe_does_not_know_is_rejected_not_retried(app, client, fake_checkout):
    ghost = {"id": "cs_test_not_at_stripe", "object": "checkout.session", "mode": "payment",
             "payment_status": "paid", "metadata": {}}
    assert completed(client, ghost)["result"] == "queued"
    with app.app_context():
        row = db.session.scalar(select(StripeEvent))
        assert row.result == "rejected"
        assert "Stripe could not give the session" in row.detail
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0
