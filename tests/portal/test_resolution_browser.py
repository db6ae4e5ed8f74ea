"""In real Chromium: the customer chooses store credit at review, sees the choice on the status
page, changes it back and forth, and gets the code once the parcel is received."""

from __future__ import annotations

import re

import pytest

from tests.support.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("resolutions_config")]


def test_customer_chooses_store_credit_and_sees_the_code(app, page, make_order, api):
    from playwright.sync_api import expect

    make_order()
    page.goto("/")
    page.get_by_label("Order number").fill("A1001")
    page.get_by_label("Email address").fill("jane@example.com")
    page.get_by_role("button", name="Continue").click()
    jeans = page.get_by_role("group", name="Jeans")
    jeans.get_by_label("How many to return").fill("1")
    jeans.get_by_label("Reason").select_option(label="Doesn't fit")
    page.get_by_role("button", name="Continue").click()

    # Review: both ways of being paid back, each with what it pays.
    choice = page.get_by_role("group", name="How would you like to be paid back?")
    refund = choice.get_by_role("radio", name="Refund to my original payment: €80.00")
    credit = choice.get_by_role("radio",
                                name="Store credit: €88.00 (includes a €8.00 bonus)")
    expect(refund).to_be_checked()
    credit.check()
    screenshot(page, "portal-resolution-choice")
    page.get_by_role("button", name="Send return request").click()
    expect(page.get_by_role("heading", name="Return requested")).to_be_visible()
    expect(page.get_by_text("send you your store credit")).to_be_visible()
    rma = page.get_by_test_id("rma").inner_text().strip()

    # The status page shows the choice, and it can still change until the payout starts.
    page.get_by_test_id("status-link").click()
    expect(page.get_by_role("heading", name="Store credit")).to_be_visible()
    saved = page.get_by_role("group", name="How would you like to be paid back?")
    expect(saved.get_by_role("radio", name="Store credit: €88.00 (includes a €8.00 bonus)")
           ).to_be_checked()
    saved.get_by_role("radio", name="Refund to my original payment: €80.00").check()
    page.get_by_role("button", name="Save my choice").click()
    expect(page.get_by_text("Your choice is saved.")).to_be_visible()
    expect(page.get_by_role("heading", name="Refund", exact=True)).to_be_visible()
    page.get_by_role("group", name="How would you like to be paid back?").get_by_role(
        "radio", name="Store credit: €88.00 (includes a €8.00 bonus)").check()
    page.get_by_role("button", name="Save my choice").click()
    expect(page.get_by_text("Your choice is saved.")).to_be_visible()

    # The warehouse receives the parcel: the credit is issued, its code shown.
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    received = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "JEANS", "quantity": 1, "condition": "resellable"}]})
    assert received.json["status"] == "credited"
    page.reload()
    expect(page.get_by_test_id("status")).to_have_text("Store credit issued")
    expect(page.get_by_test_id("credit-code")).to_have_text(
        re.compile(r"^RS-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2,4}$"))
    expect(page.get_by_test_id("credit-balance")).to_have_text("€88.00")
    expect(page.get_by_role("radio")).to_have_count(0)  # no longer changeable
    screenshot(page, "portal-credit-issued")
