"""Customer emails speak the language the customer used for the return, else the order's;
staff digests stay English."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from returns_service.db import db
from returns_service.returns.models import Return
from tests.portal.conftest import Portal
from tests.support.notify import approve, only, receive
from tests.support.smtp import parts


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: Any) -> dict[str, Any]:
    app_config["SMTP_URL"] = smtp_server.url
    app_config["SHOP_NAME"] = "Acme Outfitters"
    app_config["RETURN_ADDRESS"] = "Acme Retouren, Hafenstraße 1, 20457 Hamburg"
    return app_config


def test_an_order_in_german_gets_german_emails_with_german_amounts(
        api, make_order, smtp_server):
    make_order(locale="de")
    response = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]})
    rma = response.json["rma"]

    requested = only(smtp_server.messages, "ist bei uns eingegangen")
    assert str(requested["Subject"]) == f"Ihre Rücksendeanfrage {rma} ist bei uns eingegangen"
    text, html = parts(requested)
    for body in (text, html):
        assert "Hallo Jane," in body and "Passt nicht" in body and "Acme Outfitters" in body
        assert "Hi Jane" not in body and "Follow your return" not in body
    assert '<html lang="de">' in html
    assert f"Vielen Dank: Ihre Rücksendeanfrage <strong>{rma}</strong>" in html

    approve(api, rma)
    text, html = parts(only(smtp_server.messages, "ist genehmigt"))
    assert "Senden Sie das Paket innerhalb von 21 Tagen an:" in text
    assert "an <strong>Acme Retouren, Hafenstraße 1, 20457 Hamburg</strong>" in html

    receive(api, rma, [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}])
    text, _ = parts(only(smtp_server.messages, "Wir haben Ihr Paket"))
    assert "1 von 1 x Shirt: angenommen" in text
    assert "Wir erstatten 25,00\xa0€ auf Ihre ursprüngliche Zahlungsmethode" in text


def test_the_language_chosen_on_the_return_wins_over_the_order(
        app, client, make_order, smtp_server):
    make_order(locale="de")
    portal = Portal(client)
    assert portal.lookup().status_code == 302
    client.get("/language/es?next=/return/items")  # the customer prefers Spanish
    assert portal.choose({0: (1, "doesnt_fit")}).status_code == 302
    assert portal.submit().status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Return.locale)) == "es"
    message = only(smtp_server.messages, "Hemos recibido su solicitud de devolución")
    text, _ = parts(message)
    assert "Hola, Jane:" in text and "No me queda bien" in text


def test_a_french_browser_without_order_locale_gets_french_emails(
        client, make_order, smtp_server):
    make_order()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-FR,fr;q=0.8"
    Portal(client).request_return()
    text, html = parts(only(smtp_server.messages, "Nous avons bien reçu"))
    assert "Bonjour Jane," in text and '<html lang="fr">' in html
