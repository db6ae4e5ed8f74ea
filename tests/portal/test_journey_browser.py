"""The customer's whole journey in real Chromium on a phone-sized screen (390x844)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from returns_service.db import db
from returns_service.returns.models import Return
from tests.support.browser import publish_screenshot, screenshot
from tests.support.photos import photo_with_location

pytestmark = pytest.mark.browser


def watch_console(page) -> list[str]:
    """Collect what the browser refused (CSP violations) and script errors."""
    problems: list[str] = []

    def on_console(msg) -> None:
        if msg.type == "error" and "Failed to load resource" not in msg.text:
            problems.append(msg.text)  # e.g. "Refused to apply inline style…"

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems


def assert_fits(page, width: int = 390) -> None:
    """Nothing sticks out sideways: no horizontal scrolling on a phone."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_customer_requests_follows_and_cancels_a_return(app, page, make_order):
    from playwright.sync_api import expect

    make_order()
    problems = watch_console(page)

    # 1. Start: a wrong email gets the same answer as an unknown order.
    page.goto("/")
    expect(page.get_by_role("heading", name="Return an item")).to_be_visible()
    screenshot(page, "portal-01-start")
    page.get_by_label("Order number").fill("A1001")
    page.get_by_label("Email address").fill("someone.else@example.com")
    page.get_by_role("button", name="Continue").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("We could not find an order with that number and email")
    expect(summary).to_be_focused()  # the summary takes focus, so screen readers hear it
    screenshot(page, "portal-02-wrong-email")

    page.get_by_label("Email address").fill("jane@example.com")
    page.get_by_role("button", name="Continue").click()

    # 2. Choose items: every line with its facts; the final-sale line is disabled with why.
    expect(page.get_by_role("heading", name="Choose items to return")).to_be_visible()
    socks = page.get_by_role("group", name="Socks")
    expect(socks).to_contain_text("Final sale: this item cannot be returned.")
    expect(socks.get_by_label("How many to return")).to_be_disabled()
    shirt = page.get_by_role("group", name="Shirt")
    jeans = page.get_by_role("group", name="Jeans")
    expect(shirt).to_contain_text("SHIRT")
    expect(shirt).to_contain_text("€25.00 each")
    expect(shirt).to_contain_text("You can return2")
    assert_fits(page)
    publish_screenshot(screenshot(page, "portal-03-items"), "portal-form.png")

    # Too many shirts and no reason for the jeans: inline errors plus a summary on top.
    shirt.get_by_label("How many to return").fill("5")
    shirt.get_by_label("Reason").select_option(label="Doesn't fit")
    jeans.get_by_label("How many to return").fill("1")
    page.get_by_role("button", name="Continue").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Shirt: You can return between 1 and 2 of this item.")
    expect(summary).to_contain_text("Jeans: Choose a reason for returning this item.")
    expect(shirt.get_by_label("How many to return")).to_have_attribute("aria-invalid", "true")
    expect(jeans).to_contain_text("Choose a reason for returning this item.")
    publish_screenshot(screenshot(page, "portal-04-item-errors"), "portal-form-errors.png")
    summary.get_by_role("link", name=re.compile("Jeans")).click()
    expect(jeans.get_by_label("Reason")).to_be_focused()

    shirt.get_by_label("How many to return").fill("2")
    jeans.get_by_label("Reason").select_option(label="Arrived damaged")
    jeans.get_by_label("Comment (optional)").fill("The zip is broken.")
    jeans.get_by_label("Photos").set_input_files(  # damaged: a photo is needed
        {"name": "zip.jpg", "mimeType": "image/jpeg", "buffer": photo_with_location()})
    page.get_by_role("button", name="Continue").click()

    # 3. Review, then submit.
    expect(page.get_by_role("heading", name="Check your return")).to_be_visible()
    expect(page.get_by_test_id("refund-total")).to_have_text("€135.00")
    expect(page.locator("main")).to_contain_text("The zip is broken.")
    screenshot(page, "portal-05-review")
    page.get_by_role("button", name="Send return request").click()

    # 4. Confirmation: the RMA, what to do with the parcel, the expected refund.
    expect(page.get_by_role("heading", name="Return requested")).to_be_visible()
    rma = page.get_by_test_id("rma").inner_text().strip()
    assert re.fullmatch(r"R-[2-9A-Z]{6}", rma)
    expect(page.locator("main")).to_contain_text(f"write {rma} clearly on the box")
    expect(page.get_by_test_id("refund-total")).to_have_text("€135.00")
    screenshot(page, "portal-06-confirmation")
    with app.app_context():
        ret = db.session.scalar(select(Return).where(Return.rma == rma))
        assert ret is not None and ret.channel == "web"
        assert sorted((i.order_line.sku, i.quantity) for i in ret.items) == [
            ("JEANS", 1), ("SHIRT", 2)]

    # 5. The status page, through the signed link.
    page.get_by_test_id("status-link").click()
    expect(page.get_by_role("heading", name=f"Return {rma}")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Request received")
    expect(page.get_by_test_id("timeline")).to_contain_text("Request received")
    expect(page.get_by_test_id("next-step")).to_contain_text("Please wait for our approval")
    assert_fits(page)
    publish_screenshot(screenshot(page, "portal-07-status"), "portal-status.png")
    status_url = page.url

    # 6. Cancel, after saying yes on the page that asks first.
    page.get_by_role("button", name="Cancel this return").click()
    page.get_by_role("button", name="Yes, cancel this return").click()
    expect(page.get_by_role("status").filter(has_text="cancelled")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Cancelled")
    expect(page.get_by_role("button", name="Cancel this return")).to_have_count(0)
    screenshot(page, "portal-08-cancelled")
    with app.app_context():
        assert db.session.scalar(select(Return.status).where(Return.rma == rma)) == "cancelled"

    # 7. A forged link shows no return, only a way to find it.
    page.goto(status_url[:-3] + "xyz")
    expect(page.get_by_role("heading", name="This link is not valid")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(rma)
    screenshot(page, "portal-09-forged-link")

    # 8. Find my return with the code and email leads back to the same status page.
    page.get_by_label("Return code").fill(rma.lower())
    page.get_by_label("Email address").fill("jane@example.com")
    page.get_by_role("button", name="Find my return").click()
    expect(page.get_by_test_id("status")).to_have_text("Cancelled")
    assert problems == []


def test_pages_fit_a_360_pixel_screen(app, browser, live_server, make_return):
    from playwright.sync_api import expect

    make_return(items=[{"sku": "SHIRT", "quantity": 2, "reason": "not_as_described"}])
    context = browser.new_context(viewport={"width": 360, "height": 740},
                                  base_url=live_server.url)
    page = context.new_page()
    try:
        for path in ("/", "/returns/find"):
            page.goto(path)
            assert_fits(page, 360)
        page.goto("/")
        page.get_by_label("Order number").fill("A1001")
        page.get_by_label("Email address").fill("jane@example.com")
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("group", name="Shirt")).to_contain_text("Already returned.")
        assert_fits(page, 360)
        screenshot(page, "portal-10-items-360px")
    finally:
        context.close()


def test_keyboard_moves_through_the_start_page_in_reading_order(page):
    page.goto("/")
    order = []
    for _ in range(10):
        page.keyboard.press("Tab")
        order.append(page.evaluate(
            "document.activeElement.id || document.activeElement.textContent.trim()"))
    # The language menu sits in the header, after the brand (English is the current one).
    assert order == ["Skip to content", "Returns", "Deutsch", "Français", "Español",
                     "Nederlands", "order_number", "email", "Continue", "Find my return"]
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.type("jane@example.com")  # typing lands in the focused field
    assert page.get_by_label("Email address").input_value() == "jane@example.com"
