"""Real Chromium: an agent looks up a customer's store credit in the console."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.credits.conftest import rma_of
from tests.support.browser import publish_screenshot, screenshot

pytestmark = pytest.mark.browser


def test_an_agent_finds_a_customers_codes_and_ledger(app, desk, api, issue) -> None:
    page = desk
    code = issue(10_895, bonus=1_090)
    rma = rma_of(app, code)
    second = issue(2_000)
    api.post(f"/api/v1/credits/{code}/redemptions", as_="integration",
             json={"amount": 2_599, "order_reference": "W-7781"},
             headers={"Idempotency-Key": "w-7781"})
    api.post(f"/api/v1/credits/{second}/redemptions", as_="integration",
             json={"amount": 2_000, "order_reference": "W-7790"},
             headers={"Idempotency-Key": "w-7790"})

    page.goto("/staff/login")
    page.get_by_label("Email").fill("agent@shop.test")
    page.get_by_label("Password").fill("password-agent")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Console").get_by_role("link",
                                                               name="Store credit").click()
    expect(page.get_by_role("heading", name="Store credit", level=1)).to_be_visible()

    page.get_by_label("Customer email").fill("not an email")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("Enter the customer's email address")).to_be_visible()

    page.get_by_label("Customer email").fill(" Jane@Example.com ")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("2 credit codes for jane@example.com.")).to_be_visible()
    newest = page.get_by_role("region", name=code)
    expect(newest.get_by_text("€93.86")).to_be_visible()
    expect(newest.get_by_text("active", exact=True)).to_be_visible()
    ledger = newest.get_by_role("table", name=f"Ledger of {code}")
    expect(ledger.get_by_role("row")).to_have_count(4)  # header, issue, bonus, redemption
    redeemed = ledger.get_by_role("row", name="W-7781")
    expect(redeemed.get_by_role("cell", name="Redeemed")).to_be_visible()
    expect(redeemed.get_by_role("cell", name="-€25.99")).to_be_visible()
    expect(redeemed.get_by_role("cell", name="integration@shop.test")).to_be_visible()
    expect(page.get_by_role("region", name=second).get_by_text("spent",
                                                              exact=True)).to_be_visible()
    publish_screenshot(screenshot(page, "console-store-credit"))
    newest.get_by_role("link", name=rma).click()  # the code links to the return it came from
    expect(page.get_by_role("heading", name=rma)).to_be_visible()
