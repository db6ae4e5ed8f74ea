"""Which language a customer reads: the language menu, then the order's locale, then the
browser, then DEFAULT_LOCALE; amounts and dates in it, in the store's time zone; the console
stays English."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from returns_service.common import clock
from tests.conftest import order_payload
from tests.portal.conftest import Portal, post_form

FRENCH_BROWSER = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}


def items_page(client: Any, number: str = "A1001", headers: dict[str, str] | None = None) -> str:
    client.environ_base.update({"HTTP_ACCEPT_LANGUAGE": (headers or {}).get(
        "Accept-Language", "")})
    found = post_form(client, "/", {"order_number": number, "email": "jane@example.com"})
    assert found.status_code == 302, found.text
    return client.get("/return/items").text


def test_the_order_locale_gives_german_pages_with_german_amounts(client, make_order):
    make_order(locale="de")
    page = items_page(client)
    assert '<html lang="de">' in page
    assert "Artikel für die Rücksendung auswählen" in page
    assert "25,00\xa0€ pro Stück" in page  # not "€25.00 each"
    assert "Vom Umtausch ausgeschlossen" in page  # the final-sale line says why, in German
    assert "Passt nicht" in page  # the built-in reason labels too


def test_a_regional_order_locale_uses_its_language(client, make_order):
    make_order(locale="fr-BE")
    assert "Choisissez les articles à retourner" in items_page(client)


def test_without_an_order_locale_the_browser_language_is_used(client, make_order):
    make_order()
    start = client.get("/", headers=FRENCH_BROWSER).text
    assert '<html lang="fr">' in start and "Retourner un article" in start
    assert "Choisissez les articles à retourner" in items_page(client, headers=FRENCH_BROWSER)


def test_the_order_locale_wins_over_the_browser(client, make_order):
    make_order(locale="nl")
    assert "Kies de artikelen die u wilt retourneren" in items_page(
        client, headers=FRENCH_BROWSER)


def test_an_unshipped_browser_language_falls_back_to_the_store_default(build_app):
    app = build_app(DEFAULT_LOCALE="es")
    page = app.test_client().get("/", headers={"Accept-Language": "ja,zh;q=0.8"}).text
    assert '<html lang="es">' in page and "Devolver un artículo" in page
    assert build_app().test_client().get("/").text.count("Return an item") >= 1


def test_the_language_menu_switches_and_is_remembered(client, make_order):
    make_order(locale="de")
    items_page(client)
    switched = client.get("/language/es?next=/return/items")
    assert switched.status_code == 302 and switched.location == "/return/items"
    assert "Elija los artículos que desea devolver" in client.get("/return/items").text
    # Every page keeps the choice, and offers the others in their own names.
    start = client.get("/").text
    assert "Devolver un artículo" in start
    for name in ("English", "Deutsch", "Français", "Nederlands"):
        assert f">{name}</a>" in start
    assert '<span aria-current="true" lang="es">Español</span>' in start


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil"])
def test_the_language_menu_never_leaves_the_site(client, target):
    response = client.get("/language/fr", query_string={"next": target})
    assert response.status_code == 302 and response.location == "/"


def test_an_unknown_language_changes_nothing(client):
    client.get("/language/xx?next=/")
    assert "Return an item" in client.get("/").text


def test_the_staff_console_stays_english(client):
    page = client.get("/console/login", headers={"Accept-Language": "de"}).text
    assert '<html lang="en">' in page and "Language" not in page and "Deutsch" not in page


def test_dates_are_shown_in_the_store_time_zone_and_the_customer_language(
        build_app, make_order):
    app = build_app(STORE_TIMEZONE="Europe/Berlin")
    clock.freeze(datetime(2026, 3, 1, 23, 30, tzinfo=UTC))  # already 2 March in Berlin
    try:
        make_order(locale="de")
        client = app.test_client()
        Portal(client).lookup()
        Portal(client).choose({0: (1, "doesnt_fit")})
        confirmation = Portal(client).submit().location
        status_link = client.get(confirmation).text.split('data-testid="status-link"')[0]
        status_path = status_link.rsplit('href="', 1)[1].split('"')[0]
        page = client.get(status_path).text
    finally:
        clock.freeze(None)
    assert "Bestellung A1001 · angefragt am 2. März 2026" in page
    assert "2. März 2026, 00:30" in page  # the history, to the minute, in Berlin time


def test_the_api_stores_the_order_locale_and_refuses_nonsense(api, make_order):
    assert make_order(locale="de-AT")["locale"] == "de-AT"
    response = api.post("/api/v1/orders", as_="integration",
                        json=order_payload("A2", locale="not a locale!"))
    assert response.status_code == 422 and "locale" in str(response.json)


def test_policy_labels_per_language(build_app, make_order, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[[reasons]]\ncode = "doesnt_fit"\nlabel = "Doesn\'t fit"\n'
        'labels = { de = "Passt leider nicht", fr = "Taille inadaptée" }\n'
        '[[reasons]]\ncode = "gift"\nlabel = "Unwanted gift"\n')
    app = build_app(RETURN_POLICY_FILE=str(policy))
    make_order(locale="de")
    german = items_page(app.test_client())
    assert "Passt leider nicht" in german
    assert "Unwanted gift" in german  # no German given: as the store wrote it
    make_order("A2", locale="es")
    spanish = items_page(app.test_client(), "A2")
    assert "No me queda bien" in spanish  # no Spanish given: the catalogue's, same English


def test_a_policy_with_malformed_labels_is_refused(tmp_path):
    from returns_service.returns.policy import load_policy

    policy = tmp_path / "policy.toml"
    policy.write_text('[[reasons]]\ncode = "x"\nlabel = "X"\nlabels = { de = 3 }\n')
    with pytest.raises(ValueError, match="labels must map language codes"):
        load_policy(policy)


def test_an_error_page_on_a_customer_page_speaks_the_customer_language(app, client,
                                                                       make_return):
    from returns_service.feedback.services import feedback_token

    rma = make_return()["rma"]
    with app.app_context():
        token = feedback_token(rma)
    page = client.get(f"/feedback/{token}/9", headers={"Accept-Language": "nl"})
    assert page.status_code == 404 and "Pagina niet gevonden" in page.text
    assert "Page not found" in client.get("/console/nowhere").text  # staff: English
