"""Real Chromium: an admin brands the store (a too-light colour refused inline with its
ratio), then a customer on a phone sees the name, the logo, the colour and the footer, and
the browser reports no Content-Security-Policy violation."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.branding.support import image_bytes
from tests.support.browser import screenshot

pytestmark = pytest.mark.browser


def sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/staff/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_admin_brands_the_store_and_the_customer_sees_it(
        desk: Any, page: Any, tokens: Any, tmp_path: Any) -> None:
    logo = tmp_path / "acme-logo.png"
    logo.write_bytes(image_bytes("PNG", size=(160, 48)))

    sign_in(desk, "admin@shop.test", "password-admin")
    desk.get_by_role("navigation", name="Console").get_by_role("link", name="Branding").click()
    expect(desk.get_by_role("heading", name="Branding")).to_be_visible()
    desk.get_by_label("Store name").fill("Acme Outfitters")
    desk.get_by_label("Primary colour").fill("#ffcc00")
    desk.get_by_label("Logo").set_input_files(str(logo))
    desk.get_by_label("Support email").fill("help@acme.test")
    desk.get_by_label("Terms and conditions link").fill("https://acme.test/terms")
    desk.get_by_label("Privacy policy link").fill("https://acme.test/privacy")
    desk.get_by_role("button", name="Save branding").click()

    # Refused next to the field, with the ratio it has and the one it needs.
    colour = desk.get_by_label("Primary colour")
    expect(colour).to_have_attribute("aria-invalid", "true")
    expect(desk.locator("#primary_color-error")).to_contain_text(
        "White button text on this colour has a contrast ratio of 1.")
    expect(desk.locator("#primary_color-error")).to_contain_text("at least 4.5:1")
    expect(desk.get_by_role("alert")).to_contain_text("contrast ratio")
    expect(colour).to_have_value("#ffcc00")
    screenshot(desk, "branding-colour-refused")

    colour.fill("#14532d")
    desk.get_by_label("Logo").set_input_files(str(logo))  # a file input never keeps a file
    desk.get_by_role("button", name="Save branding").click()
    expect(desk.get_by_text("Branding saved")).to_be_visible()
    expect(desk.get_by_role("img", name="Current logo")).to_be_visible()
    expect(desk.get_by_role("link", name="Acme Outfitters · Staff")).to_be_visible()

    # The customer, on a phone.
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    response = page.goto("/")
    csp = response.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "style-src 'self'" in csp
    header = page.get_by_role("banner")
    expect(header.get_by_role("link", name="Acme Outfitters")).to_be_visible()
    logo_img = header.locator("img.brand-logo")
    expect(logo_img).to_be_visible()
    assert logo_img.evaluate("img => img.complete && img.naturalWidth") == 160
    button = page.get_by_role("button", name="Continue")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(20, 83, 45)"
    footer = page.get_by_role("contentinfo")
    expect(footer.get_by_role("link", name="Terms and conditions")).to_have_attribute(
        "href", "https://acme.test/terms")
    expect(footer.get_by_role("link", name="Privacy policy")).to_have_attribute(
        "href", "https://acme.test/privacy")
    expect(footer.get_by_role("link", name="help@acme.test")).to_have_attribute(
        "href", "mailto:help@acme.test")
    expect(page).to_have_title("Return an item · Acme Outfitters")
    screenshot(page, "branding-customer-page")

    # In German, the footer is German too.
    page.get_by_role("link", name="Deutsch").click()
    expect(footer.get_by_role("link", name="AGB")).to_be_visible()
    expect(footer.get_by_role("link", name="Datenschutz")).to_be_visible()
    assert violations == []
