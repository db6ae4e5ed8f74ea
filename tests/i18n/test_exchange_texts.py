"""Exchanges speak the customer's language too: the choice on the items step, its messages,
the review, the status page, the page to pay a difference and the "on its way" email."""

from __future__ import annotations

import re
from typing import Any

import pytest

from returns_service.returns.links import status_token
from tests.conftest import order_payload
from tests.exchanges.conftest import EXCHANGE_POLICY, exchange, shirt
from tests.exchanges.test_exchanges import receive
from tests.portal.conftest import Portal, post_form
from tests.support.notify import only
from tests.support.smtp import parts

# English a German customer must not meet on these pages and in this email.
ENGLISH = ("Refund or exchange", "Refund me", "Exchange for", "Another size or colour",
           "more each", "less each", "out of stock", "Pay the", "Tracking number", "Hi Jane",
           "We send it when", "Waiting for your payment", "in place of")


def no_english(text: str) -> None:
    left = [phrase for phrase in ENGLISH if phrase in text]
    assert left == [], left


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Any, smtp_server: Any) -> dict[str, Any]:
    path = tmp_path / "policy.toml"
    path.write_text(EXCHANGE_POLICY)
    app_config["RETURN_POLICY_FILE"] = str(path)
    app_config["SMTP_URL"] = smtp_server.url
    return app_config


@pytest.fixture
def online_payment(app_config: dict[str, Any], fake_checkout: Any) -> None:
    """Stripe (our loopback fake): dearer sizes are offered, paid online."""
    from tests.support.stripe import API_KEY, WEBHOOK_SECRET
    app_config.update(STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=fake_checkout.url,
                      STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)


@pytest.fixture
def german_shirt_order(api: Any) -> None:
    """The shirt in four sizes (L out of stock) and a German order of one size M."""
    response = api.call("PUT", "/api/v1/products/shirt-1", as_="integration",
                        json=shirt(l_stock=0))
    assert response.status_code in (200, 201), response.json
    lines = [{"sku": "SHIRT-M", "name": "Shirt, size M", "quantity": 1, "unit_price": 2500,
              "product_id": "shirt-1"}]
    response = api.post("/api/v1/orders", as_="integration",
                        json=order_payload("A1001", lines=lines, locale="de"))
    assert response.status_code == 201, response.json


def choose(client: Any, exchange_sku: str) -> Any:
    return post_form(client, "/return/items", {
        "line0-quantity": 1, "line0-reason": "doesnt_fit", "line0-exchange": exchange_sku})


def test_the_exchange_choice_review_and_status_page_are_in_german(
        online_payment, client, german_shirt_order) -> None:
    portal = Portal(client)
    assert portal.lookup().status_code == 302
    items = client.get("/return/items").text
    assert "Erstattung oder Umtausch" in items and "Geld zurück" in items
    assert "Eine andere Größe oder Farbe statt Ihres Geldes zurück." in items
    assert "Umtausch gegen Shirt, size L (nicht vorrätig)" in items
    assert "Umtausch gegen Shirt, size S (5,00\xa0€ günstiger pro Stück)" in items
    assert "Umtausch gegen Shirt, size XL (5,00\xa0€ teurer pro Stück, online zu zahlen)" \
        in items
    no_english(items)

    refused = choose(client, "SHIRT-NOPE")  # not on the list (a changed form)
    assert refused.status_code == 422
    assert "Bitte wählen Sie eine Größe oder Farbe aus der Liste." in refused.text
    no_english(refused.text)

    assert choose(client, "SHIRT-S").status_code == 302
    review = client.get("/return/review").text
    assert "Umtausch gegen Shirt, size S: 5,00\xa0€ zurück an Sie." in review
    no_english(review)

    sent = portal.submit()
    assert sent.status_code == 302, sent.text
    token = sent.location.rsplit("/", 1)[1]
    status = client.get(f"/returns/status/{token}").text
    assert "<h2>Umtausch</h2>" in status
    assert "<strong>Umtausch gegen Shirt, size S</strong>" in status
    assert "Wir versenden ihn, sobald Ihr Paket ankommt." in status
    no_english(status)


def test_the_difference_is_asked_for_in_german(online_payment, client,
                                               german_shirt_order) -> None:
    portal = Portal(client)
    assert portal.lookup().status_code == 302
    assert choose(client, "SHIRT-XL").status_code == 302
    pay = portal.submit()  # the page with the link to Stripe's payment page
    assert pay.status_code == 200, pay.text
    assert "<h1>Differenz bezahlen</h1>" in pay.text
    assert "bezahlen Sie die Differenz von 5,00\xa0€ auf der sicheren Zahlungsseite" in pay.text
    assert "Weiter zur sicheren Zahlung" in pay.text
    assert "Später zahlen: Rücksendung verfolgen" in pay.text
    no_english(pay.text)
    assert "Continue to secure payment" not in pay.text

    status = client.get(re.search(r'href="([^"]*/returns/status/[^"]+)"', pay.text)[1]).text
    assert "Wir warten auf Ihre Zahlung der Differenz." in status
    assert "Differenz von 5,00\xa0€ bezahlen" in status
    no_english(status)


def test_the_exchange_shipped_email_is_in_german(api, german_shirt_order,
                                                  smtp_server) -> None:
    created = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": "SHIRT-M", "quantity": 1, "reason": "doesnt_fit"}]})
    rma = created.json["rma"]
    assert exchange(api, rma, "SHIRT-S").status_code == 201  # €5 back: refunded at receipt
    receive(api, rma)
    order_id = api.get("/api/v1/exchange-orders", as_="integration").json[0]["id"]
    shipped = api.post(f"/api/v1/exchange-orders/{order_id}/shipped", as_="integration",
                       json={"tracking_number": "1Z999", "carrier": "UPS"})
    assert shipped.status_code == 200, shipped.json

    message = only(smtp_server.messages, "Umtausch")
    assert str(message["Subject"]) == f"Ihr Umtausch zur Rücksendung {rma} ist unterwegs"
    text, html = parts(message)
    assert f"Ihr Umtausch zur Rücksendung {rma} ist unterwegs: 1 x Shirt, size S (SHIRT-S) " \
        "anstelle von SHIRT-M." in text
    assert f"Ihr Umtausch zur Rücksendung <strong>{rma}</strong> ist unterwegs: " \
        "1 \u00d7 Shirt, size S (SHIRT-S) anstelle von SHIRT-M." in html
    assert "Sendungsnummer: 1Z999 (UPS)" in text
    assert "Sendungsnummer: <strong>1Z999</strong> (UPS)" in html
    for body in (text, html):
        assert "Hallo Jane," in body
        no_english(body)


@pytest.fixture
def instant(app_config: dict[str, Any], fake_checkout: Any) -> None:
    """Instant exchanges on (a card saved at the loopback Stripe fake)."""
    from tests.exchanges.test_instant_exchange import instant_config
    instant_config(app_config, fake_checkout)


def test_the_instant_exchange_email_has_german_amounts_and_dates(
        instant, app, api, client, german_shirt_order, fake_checkout, smtp_server) -> None:
    from tests.exchanges.test_instant_exchange import approve, save_card
    api.call("PUT", "/api/v1/products/shirt-1", as_="integration", json=shirt())
    created = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": "SHIRT-M", "quantity": 1, "reason": "doesnt_fit"}]})
    rma = created.json["rma"]
    assert exchange(api, rma, "SHIRT-L").json["instant"] is True
    assert save_card(app, client, fake_checkout, rma).json["result"] == "applied"
    approve(api, rma)

    text, html = parts(only(smtp_server.messages, "Der neue Artikel ist unterwegs"))
    for body in (text, html):
        assert "Hallo Jane," in body
        assert re.search("Ihre Karte wird nur mit 25,00\xa0€ belastet, wenn der "
                         r"zurückgeschickte Artikel bis \d{1,2}\. \w+ \d{4} nicht", body), body
        assert "€25.00" not in body and "Hi Jane" not in body


@pytest.fixture
def sms(app_config: dict[str, Any], fake_twilio: Any) -> None:
    """SMS through Twilio (our loopback fake): the status page offers the opt-in."""
    from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER
    app_config.update(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                      TWILIO_FROM_NUMBER=FROM_NUMBER, TWILIO_API_BASE=fake_twilio.url)


def test_a_number_the_service_cannot_read_is_refused_in_german(
        sms, app, api, client, german_shirt_order) -> None:
    created = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": "SHIRT-M", "quantity": 1, "reason": "doesnt_fit"}]})
    with app.app_context():
        path = f"/returns/status/{status_token(created.json['rma'])}"
    refused = post_form(client, f"{path}/sms", {"phone": "call me maybe"}, token_from=path)
    assert refused.status_code == 422
    assert "Geben Sie die Nummer mit Ländervorwahl ein, z. B. +49 151 23456789." in refused.text
    assert "Enter the number" not in refused.text
