"""Console pages after the outside review, in real Chromium at a desk-sized window."""

from __future__ import annotations

import pytest

from tests.browser import screenshot
from tests.test_console_browser import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  base_url=live_server.url)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


# --- 17: the New return lookup and the notes on a return page ---------------------------------

def test_new_return_keeps_the_order_number_and_email_after_find_order(desk, make_order):
    from playwright.sync_api import expect

    make_order()
    page = desk
    sign_in(page, "agent@shop.test", "password-agent")
    page.get_by_role("link", name="New return").click()
    page.get_by_label("Order number").fill("A1001")
    page.get_by_label("Customer email (to check identity)").fill("jane@example.com")
    page.get_by_role("button", name="Find order").click()
    expect(page.get_by_role("heading", name="Order A1001 · Jane Doe")).to_be_visible()
    expect(page.get_by_label("Order number")).to_have_value("A1001")
    expect(page.get_by_label("Customer email (to check identity)")).to_have_value(
        "jane@example.com")


def test_each_note_to_the_customer_has_its_own_name(desk, make_return):
    from playwright.sync_api import expect

    rma = make_return()["rma"]
    page = desk
    sign_in(page, "agent@shop.test", "password-agent")
    page.goto(f"/staff/returns/{rma}")
    approval = page.get_by_label("Note to the customer (approval, optional)", exact=True)
    rejection = page.get_by_label("Note to the customer (rejection)", exact=True)
    cancellation = page.get_by_label("Note to the customer (cancellation, optional)",
                                     exact=True)
    for box in (approval, rejection, cancellation):
        expect(box).to_have_count(1)
    screenshot(page, "console-review-notes")
    rejection.fill("Worn and washed.")
    page.get_by_label("Reason").select_option(label="Item shows signs of use")
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_text(f"Rejected {rma}.")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("Worn and washed.")
