"""In real Chromium: a customer returning a discounted, taxed item sees the breakdown of what
they paid for it (the item's price, the discount taken off, the tax added) and its total."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_review_lists_price_discount_and_tax(app, page, make_order):
    from playwright.sync_api import expect

    make_order(currency="USD", lines=[
        {"sku": "JEANS", "name": "Jeans", "quantity": 1, "unit_price": 8000, "discount": 1600,
         "tax_lines": [{"rate": "8.875", "amount": 568, "name": "NY sales tax"}]}],
        payment=None, payments=[{"provider": "stripe", "amount": 7468,
                                 "payment_intent": "pi_test_A1001"}], shipping_total=500)
    page.goto("/")
    page.get_by_label("Order number").fill("A1001")
    page.get_by_label("Email address").fill("jane@example.com")
    page.get_by_role("button", name="Continue").click()
    jeans = page.get_by_role("group", name="Jeans")
    jeans.get_by_label("How many to return").fill("1")
    jeans.get_by_label("Reason").select_option(label="Doesn't fit")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Check your return")).to_be_visible()
    breakdown = page.locator("dl.refund")
    expect(breakdown.get_by_text("Items", exact=True)).to_be_visible()
    expect(breakdown.get_by_text("$80.00", exact=True)).to_be_visible()
    expect(breakdown.get_by_text("Discounts", exact=True)).to_be_visible()
    expect(breakdown.get_by_text("\N{MINUS SIGN}$16.00", exact=True)).to_be_visible()
    expect(breakdown.get_by_text("Tax", exact=True)).to_be_visible()
    expect(breakdown.get_by_text("$5.68", exact=True)).to_be_visible()
    expect(page.get_by_test_id("refund-total")).to_have_text("$69.68")
