"""Customer pages after the outside review, in real Chromium on a phone-sized screen."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from returns_service.extensions import db
from returns_service.returns.models import Return
from tests.browser import screenshot

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
