"""Console pages after the outside review, in real Chromium at a desk-sized window."""

from __future__ import annotations

import re

import pytest

from tests.console.test_browser import sign_in
from tests.support.browser import screenshot

pytestmark = pytest.mark.browser


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


# --- 19: receiving asks for each item's condition and shows what the customer said --------------

def approved_with_comment(api, make_return) -> str:
    rma = make_return(items=[
        {"sku": "SHIRT", "quantity": 1, "reason": "damaged", "comment": "The seam is torn."},
        {"sku": "JEANS", "quantity": 1, "reason": "doesnt_fit"}])["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    return rma


def test_receiving_needs_a_condition_for_each_item_and_shows_the_customers_words(
        app, desk, api, make_return):
    from playwright.sync_api import expect

    from tests.support.console import state

    rma = approved_with_comment(api, make_return)
    page = desk
    sign_in(page, "warehouse@shop.test", "password-warehouse")
    page.goto(f"/staff/receiving/{rma}")
    shirt = page.get_by_role("group", name="Shirt")
    jeans = page.get_by_role("group", name="Jeans")
    expect(shirt).to_contain_text("Customer's reason: Arrived damaged")
    expect(shirt).to_contain_text("The seam is torn.")
    expect(jeans).to_contain_text("Customer's reason: Doesn't fit")
    expect(shirt.get_by_label("Condition")).to_have_value("")  # nothing chosen for them
    expect(shirt.get_by_label("Restock")).to_have_value("")
    screenshot(page, "console-review-receive")

    # One Enter in the first box no longer refunds and restocks everything as resellable.
    shirt.get_by_label("Received quantity").press("Enter")
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Shirt: Choose the condition the item arrived in.")
    expect(shirt).to_contain_text("Choose the condition the item arrived in.")
    expect(shirt.get_by_label("Condition")).to_have_attribute("aria-invalid", "true")
    assert state(app, rma)[0] == "approved"
    screenshot(page, "console-review-receive-errors")

    shirt.get_by_label("Condition").select_option(label="Damaged")
    shirt.get_by_label("Restock").select_option(label="No")
    jeans.get_by_label("Condition").select_option(label="Resellable")
    jeans.get_by_label("Restock").select_option(label="Yes")
    page.get_by_role("button", name="Receive and start refund").click()
    expect(page.get_by_text(f"Received {rma}.")).to_be_visible()
    assert state(app, rma)[0] == "refund_pending"


# --- 24: the receive form's errors as the customer pages show them -------------------------------

def test_receive_errors_take_focus_and_are_tied_to_their_fields(app, desk, api, make_return):
    from playwright.sync_api import expect

    rma = approved_with_comment(api, make_return)
    page = desk
    sign_in(page, "warehouse@shop.test", "password-warehouse")
    page.goto(f"/staff/receiving/{rma}")
    jeans = page.get_by_role("group", name="Jeans")
    jeans.get_by_label("Received quantity").fill("")
    page.get_by_role("button", name="Receive and start refund").click()
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()  # screen readers hear the problem at once
    quantity = jeans.get_by_label("Received quantity")
    expect(quantity).to_have_attribute("aria-invalid", "true")
    expect(quantity).to_have_accessible_description(re.compile("Enter how many arrived."))
    summary.get_by_role("link", name="Jeans: Enter how many arrived.").click()
    expect(quantity).to_be_focused()
