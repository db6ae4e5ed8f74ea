"""Customers in their own language, in real Chromium: a German order from the request to the
approved status page and its emails, a French browser, and the language menu."""

from __future__ import annotations

import re
from typing import Any

import pytest
from babel.dates import format_date
from sqlalchemy import select

from returns_service.db import db
from returns_service.returns.models import Return
from tests.support.browser import screenshot
from tests.support.notify import approve, only
from tests.support.smtp import parts

pytestmark = pytest.mark.browser

# Words an English page is full of: none may be left on a translated page (product names
# and codes are the store's data and stay as they are).
ENGLISH = re.compile(r"\b(the|your|Your|Order|order|Step|Continue|Reason|Return|return|"
                     r"Refund|refund|Items|each|What happens next|History)\b")


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: Any) -> dict[str, Any]:
    app_config["SMTP_URL"] = smtp_server.url
    app_config["RETURN_ADDRESS"] = "Acme Retouren, Hafenstraße 1, 20457 Hamburg"
    return app_config


@pytest.fixture
def french_page(browser: Any, live_server: Any) -> Any:
    """A phone-sized tab of a browser set to French (Accept-Language: fr-FR)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR",
                                  base_url=live_server.url)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def no_english(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("main")).not_to_contain_text(ENGLISH)


def test_a_german_order_goes_through_the_journey_in_german(
        app, page, api, make_order, smtp_server):
    from playwright.sync_api import expect

    make_order(locale="de")
    page.goto("/")  # the order is not known yet: the browser's language (English here)
    page.get_by_label("Order number").fill("A1001")
    page.get_by_label("Email address").fill("jane@example.com")
    page.get_by_role("button", name="Continue").click()

    # From here on the order's language: German, amounts as Germans write them.
    expect(page.get_by_role("heading", name="Artikel für die Rücksendung auswählen")) \
        .to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_text("Schritt 2 von 3")).to_be_visible()
    socks = page.get_by_role("group", name="Socks")
    expect(socks).to_contain_text("Vom Umtausch ausgeschlossen")
    shirt = page.get_by_role("group", name="Shirt")
    expect(shirt).to_contain_text("25,00\xa0€ pro Stück")
    no_english(page)
    shirt.get_by_label("Anzahl für die Rücksendung").fill("1")
    page.get_by_role("button", name="Weiter").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Shirt: Wählen Sie einen Grund für die Rücksendung dieses Artikels.")
    shirt.get_by_label("Grund").select_option(label="Passt nicht")
    page.get_by_role("button", name="Weiter").click()

    expect(page.get_by_role("heading", name="Rücksendung prüfen")).to_be_visible()
    expect(page.get_by_test_id("refund-total")).to_have_text("25,00\xa0€")
    no_english(page)
    screenshot(page, "i18n-01-review-de")
    page.get_by_role("button", name="Rücksendung anfragen").click()

    expect(page.get_by_role("heading", name="Rücksendung angefragt")).to_be_visible()
    rma = page.get_by_test_id("rma").inner_text().strip()
    no_english(page)
    page.get_by_test_id("status-link").click()

    with app.app_context():
        ret = db.session.scalar(select(Return).where(Return.rma == rma))
        assert ret is not None and ret.locale == "de"
        day = format_date(ret.created_at, "long", locale="de")  # "5. Dezember 2026"
    expect(page.get_by_role("heading", name=f"Rücksendung {rma}")).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"Bestellung A1001 · angefragt am {day}")
    expect(page.get_by_test_id("status")).to_have_text("Anfrage erhalten")
    expect(page.get_by_test_id("next-step")).to_contain_text(
        "Bitte warten Sie auf unsere Genehmigung")
    no_english(page)

    approve(api, rma)
    page.reload()
    expect(page.get_by_test_id("status")).to_have_text("Genehmigt: Bitte senden Sie Ihr Paket")
    expect(page.get_by_test_id("next-step")).to_contain_text(
        f"schreiben Sie {rma} gut lesbar auf das Paket")
    expect(page.get_by_test_id("timeline")).to_contain_text(day)
    no_english(page)
    screenshot(page, "i18n-02-status-de")

    # The emails speak German too.
    requested = only(smtp_server.messages, "ist bei uns eingegangen")
    approved = only(smtp_server.messages, "ist genehmigt")
    for message in (requested, approved):
        text, html = parts(message)
        assert "Hallo Jane," in text and '<html lang="de">' in html
        assert "Hi Jane" not in text
    assert "innerhalb von 21 Tagen" in parts(approved)[0]


def test_a_french_browser_gets_french_and_can_switch_language(french_page, make_order):
    from playwright.sync_api import expect

    page = french_page
    make_order()  # no locale on the order: the browser decides
    page.goto("/")
    expect(page.get_by_role("heading", name="Retourner un article")).to_be_visible()
    page.get_by_label("Numéro de commande").fill("A1001")
    page.get_by_label("Adresse e-mail").fill("jane@example.com")
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", name="Choisissez les articles à retourner")) \
        .to_be_visible()
    expect(page.get_by_role("group", name="Shirt")).to_contain_text("25,00\xa0€ l\u2019unité")
    no_english(page)
    screenshot(page, "i18n-03-items-fr")

    # The language menu, on every page, no script: English, then Dutch, and it stays.
    menu = page.get_by_role("navigation", name="Langue")
    menu.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Choose items to return")).to_be_visible()
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Nederlands") \
        .click()
    expect(page.get_by_role("heading", name="Kies de artikelen die u wilt retourneren")) \
        .to_be_visible()
    page.goto("/returns/find")
    expect(page.get_by_role("heading", name="Mijn retour zoeken")).to_be_visible()
