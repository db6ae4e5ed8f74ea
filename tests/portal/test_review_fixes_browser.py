"""Customer pages after the outside review, in real Chromium on a phone-sized screen."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from returns_service.db import db
from returns_service.returns.models import Return
from tests.support.browser import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def no_script_page(browser, live_server):
    """A phone-sized tab with JavaScript off: the pages must work without it."""
    context = browser.new_context(viewport={"width": 390, "height": 844},
                                  base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def status_of(app, rma: str) -> str:
    with app.app_context():
        return db.session.scalar(select(Return.status).where(Return.rma == rma))


def open_status_page(app, page, rma: str) -> None:
    from returns_service.returns.links import status_token

    with app.test_request_context():
        page.goto(f"/returns/status/{status_token(rma)}")


# --- 18: cancelling asks first -------------------------------------------------------------------

def test_cancel_asks_for_confirmation_without_javascript(app, no_script_page, make_return):
    from playwright.sync_api import expect

    page = no_script_page
    rma = make_return()["rma"]
    open_status_page(app, page, rma)
    page.get_by_role("button", name="Cancel this return").click()
    expect(page.get_by_role("heading", name=f"Cancel return {rma}?")).to_be_visible()
    assert status_of(app, rma) == "requested"  # nothing happened yet
    screenshot(page, "portal-review-cancel-confirm")

    page.get_by_role("link", name="No, keep my return").click()
    expect(page.get_by_test_id("status")).to_have_text("Request received")
    assert status_of(app, rma) == "requested"

    page.get_by_role("button", name="Cancel this return").click()
    page.get_by_role("button", name="Yes, cancel this return").click()
    expect(page.get_by_role("status").filter(has_text="Your return is cancelled.")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Cancelled")
    assert status_of(app, rma) == "cancelled"


# --- 24: the focus ring is visible on white ----------------------------------------------------

def contrast(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """WCAG contrast ratio of two sRGB colours."""
    def luminance(rgb: tuple[int, ...]) -> float:
        parts = [c / 255 for c in rgb[:3]]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_focused_controls_get_a_ring_with_3_to_1_contrast_on_white(page):
    page.goto("/")
    for _ in range(7):  # skip link, brand, the four other languages, the order number box
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "order_number"
    ring = page.evaluate("""() => {
        const s = getComputedStyle(document.activeElement);
        return {shadow: s.boxShadow, outline: s.outlineColor, offset: s.outlineOffset};
    }""")
    colours = [tuple(int(n) for n in m) for m in
               re.findall(r"rgb\((\d+), (\d+), (\d+)\)", ring["shadow"])]
    assert colours, ring  # a ring drawn next to the control, not only the yellow outline
    assert max(contrast(c, (255, 255, 255)) for c in colours) >= 3
    spread = re.search(r"0px 0px 0px (\d+)px", ring["shadow"])
    assert spread and int(spread.group(1)) >= 2  # at least 2 px wide
    assert int(ring["offset"].removesuffix("px")) >= int(spread.group(1))  # yellow outside it
    screenshot(page, "portal-review-focus-ring")


# --- 25: 200 % zoom on a phone: nothing scrolls sideways ---------------------------------------

def test_items_page_fits_a_phone_at_200_percent_zoom(browser, live_server, make_order):
    from playwright.sync_api import expect

    make_order()
    # 390 px wide at 200 % zoom lays the page out in 195 CSS pixels.
    context = browser.new_context(viewport={"width": 195, "height": 422},
                                  device_scale_factor=2, base_url=live_server.url)
    page = context.new_page()
    try:
        page.goto("/")
        page.get_by_label("Order number").fill("A1001")
        page.get_by_label("Email address").fill("jane@example.com")
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", name="Choose items to return")).to_be_visible()
        screenshot(page, "portal-review-items-200-percent")
        assert page.evaluate("document.documentElement.scrollWidth") <= 195
    finally:
        context.close()
