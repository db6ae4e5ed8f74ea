"""Real Chromium: an agent decides two returns, the warehouse receives one (refund starts)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from returns_service.common import clock
from tests.support.browser import publish_screenshot, screenshot

pytestmark = pytest.mark.browser
TWO_ITEMS = [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"},
             {"sku": "JEANS", "quantity": 1, "reason": "not_as_described"}]


def sign_in(page, email, password):
    page.goto("/staff/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_agent_decides_and_warehouse_receives(desk, make_return):
    page = desk
    clock.freeze(clock.utcnow() - timedelta(hours=30))  # this one has waited too long
    to_reject = make_return("A1001")["rma"]
    clock.freeze(None)
    to_approve = make_return("A1002", items=TWO_ITEMS)["rma"]

    # The agent finds both in the queue, oldest first.
    sign_in(page, "agent@shop.test", "password-agent")
    expect(page.get_by_role("heading", name="Returns queue")).to_be_visible()
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 2
    assert to_reject in rows.nth(0).inner_text() and to_approve in rows.nth(1).inner_text()
    assert "1 d 6 h · overdue" in rows.nth(0).inner_text()
    assert "overdue" not in rows.nth(1).inner_text()
    screenshot(page, "console-queue")

    # Search by RMA, open it, reject with a reason and a note to the customer.
    page.get_by_label("RMA, order number or email").fill(to_reject.lower().replace("-", ""))
    page.get_by_role("button", name="Search").click()
    assert rows.count() == 1
    page.get_by_role("link", name=to_reject).click()
    page.locator("#reject-reason").select_option("used")
    page.locator("#reject-note").fill("The shirt has been worn and washed.")
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_text(f"Rejected {to_reject}.")).to_be_visible()
    expect(page.locator(".badge", has_text="rejected").first).to_be_visible()
    assert "Item shows signs of use" in page.locator(".timeline").inner_text()

    # Back to the queue: only the other one waits; approve it.
    page.get_by_role("link", name="Queue").click()
    assert rows.count() == 1
    page.get_by_role("link", name=to_approve).click()
    screenshot(page, "console-return-actions")
    page.locator("#approve-note").fill("Sorry it was not as described.")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text(f"Approved {to_approve}.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()

    # The warehouse scans the label (lower case, no dash) and presses Enter.
    sign_in(page, "warehouse@shop.test", "password-warehouse")
    scan = page.get_by_label("Scan or type the RMA")
    assert scan.evaluate("el => el === document.activeElement")  # ready for the scanner
    scan.fill(to_approve.lower().replace("-", " "))
    scan.press("Enter")
    expect(page.get_by_role("heading", name=f"Receive {to_approve}")).to_be_visible()
    shirt = page.locator("fieldset", has_text="SHIRT")
    jeans = page.locator("fieldset", has_text="JEANS")
    shirt.get_by_label("Condition").select_option("resellable")
    shirt.get_by_label("Restock").select_option("yes")
    jeans.get_by_label("Condition").select_option("damaged")
    jeans.get_by_label("Restock").select_option("no")
    jeans.get_by_label("Note").fill("Seam torn at the knee")
    screenshot(page, "console-receive")
    page.get_by_role("button", name="Receive and start refund").click()

    # No Stripe key in tests: the refund is recorded and waits as refund_pending.
    expect(page.get_by_text(
        f"Received {to_approve}. Refund of €110.00 waits until STRIPE_API_KEY is set.")
    ).to_be_visible()
    assert page.locator("h1 .badge").inner_text() == "Refund pending"
    timeline = page.locator(".timeline li")
    entries = [timeline.nth(i).inner_text() for i in range(timeline.count())]
    assert any(e.startswith("Notification") for e in entries)  # emails show up for staff
    steps = [e for e in entries if "\u2192" in e.split("\n")[0]]  # status changes
    assert [s.split(" by ")[0] for s in steps] == [
        "Request → Requested", "Approve → Approved", "Receive → Received",
        "Start refund → Refund pending"]
    assert "by jane@example.com (customer)" in steps[0]
    assert "by agent@shop.test" in steps[1]
    assert "by warehouse@shop.test" in steps[2] and "by warehouse@shop.test" in steps[3]
    assert "JEANS \u00d71 damaged" in steps[2]
    assert "SHIRT \u00d71 resellable (restock)" in steps[2]
    detail = screenshot(page, "console-return-detail")
    publish_screenshot(detail)
    publish_screenshot(detail.with_name("console-queue.png"))


def test_agent_records_a_refund_made_outside_stripe(desk, app, api, make_return):
    """From the refund-problems page: too much is refused next to the field, then the amount
    still owed is recorded and the return is refunded."""
    from tests.console.test_roles import refund_failed

    page = desk
    rma = refund_failed(app, api, make_return)
    sign_in(page, "agent@shop.test", "password-agent")
    page.goto("/staff/refunds/problems")
    page.get_by_role("link", name=f"Record refund made outside Stripe for {rma}").click()
    expect(page.get_by_role("heading", name="Record a refund made outside Stripe")).to_be_visible()
    amount = page.get_by_label("Amount paid back")
    assert amount.input_value() == "€25.00"
    amount.fill("100.00")
    page.get_by_label("Reference").fill("SEPA-2026-0042")
    page.get_by_role("button", name="Record refund").click()
    assert amount.get_attribute("aria-invalid") == "true"
    expect(page.get_by_text("This return is still owed €25.00.").first).to_be_visible()
    amount.fill("25.00")
    page.get_by_role("button", name="Record refund").click()
    expect(page.get_by_text(f"Recorded a refund of €25.00 made outside Stripe for {rma}.")
           ).to_be_visible()
    expect(page.locator(".badge", has_text="refunded").first).to_be_visible()
