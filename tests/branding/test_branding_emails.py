"""Every email (HTML and text) carries the store's look: its name, logo, colour, support
contact and footer links, as saved on the Branding page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.branding.support import image_bytes, post_brand
from tests.support.console import login
from tests.support.notify import approve, only
from tests.support.smtp import parts


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: Any) -> dict[str, Any]:
    app_config["SMTP_URL"] = smtp_server.url
    return app_config


def test_emails_carry_the_store_name_logo_colour_and_footer_links(
        app: Any, api: Any, tokens: Any, make_return: Any, smtp_server: Any) -> None:
    admin = app.test_client()
    login(admin, "admin")
    assert post_brand(admin, logo=(image_bytes("PNG"), "logo.png")).status_code == 302

    rma = make_return()["rma"]
    approve(api, rma)
    for subject in ("We have your return request", "is approved"):
        text, html = parts(only(smtp_server.messages, subject))
        text = text.replace("\r\n", "\n")
        assert text.rstrip().endswith(
            "Acme Outfitters\n"
            "Questions? Contact us: help@acme.test · +44 20 7946 0000\n"
            "Terms and conditions: https://acme.test/terms\n"
            "Privacy policy: https://acme.test/privacy")
        # Mail clients fetch the logo from the public site; the colour is inline (no CSP
        # in mail, and most clients drop <style>).
        assert '<img src="http://returns.test/brand/logo?v=1" alt=""' in html
        assert "Acme Outfitters</td>" in html
        assert '<a href="https://acme.test/terms" style="color:#14532d;">Terms and conditions</a>' \
            in html
        assert '<a href="https://acme.test/privacy" style="color:#14532d;">Privacy policy</a>' \
            in html
        assert '<a href="mailto:help@acme.test"' in html
    assert "background:#14532d;color:#ffffff;" in html  # the "Follow your return" button


def test_emails_before_any_branding_use_the_settings(
        app: Any, make_return: Any, smtp_server: Any) -> None:
    app.config.update(SHOP_NAME="Corner Shop", TERMS_URL="https://corner.test/terms")
    make_return()
    text, html = parts(only(smtp_server.messages, "We have your return request"))
    assert "Corner Shop" in text and "Terms and conditions: https://corner.test/terms" in text
    assert "<img" not in html and "Privacy policy" not in html
    assert "background:#0b5cad;" in html


def test_emails_are_branded_in_the_customers_language(
        app: Any, api: Any, tokens: Any, make_order: Any, smtp_server: Any) -> None:
    admin = app.test_client()
    login(admin, "admin")
    post_brand(admin)
    make_order("A2001", locale="de")
    api.post("/api/v1/returns", json={"order_number": "A2001", "email": "jane@example.com",
                                      "items": [{"sku": "SHIRT", "quantity": 1,
                                                 "reason": "doesnt_fit"}]})
    text, _html = parts(smtp_server.messages[-1])
    assert "Fragen? Kontakt:" in text and "Datenschutz" in text and "AGB" in text
