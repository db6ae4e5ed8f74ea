"""In real Chromium: the customer photographs a damaged item on a phone (390x844), is told a
photo is needed, adds one, sends the return and sees it on the status page; the agent sees
it on the return page. The stored file has no EXIF left."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.photos.conftest import stored_photos
from tests.portal.test_journey_browser import assert_fits, watch_console
from tests.support.browser import screenshot
from tests.support.photos import TEXT_NAMED_JPG, has_location, photo_with_location

pytestmark = pytest.mark.browser


def test_photos_from_a_phone_reach_the_agent_without_exif(app, page, desk, make_order, tokens):
    make_order()
    problems = watch_console(page)
    page.goto("/")
    page.get_by_label("Order number").fill("A1001")
    page.get_by_label("Email address").fill("jane@example.com")
    page.get_by_role("button", name="Continue").click()

    jeans = page.get_by_role("group", name="Jeans")
    expect(jeans.get_by_label("Photos")).to_be_visible()
    expect(jeans).to_contain_text("Needed for these reasons: Arrived damaged, Does not work.")
    jeans.get_by_label("How many to return").fill("1")
    jeans.get_by_label("Reason").select_option(label="Arrived damaged")
    jeans.get_by_label("Comment (optional)").fill("Torn at the knee.")
    page.get_by_role("button", name="Continue").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Jeans: Add a photo that shows the damage or the fault.")
    expect(jeans.get_by_label("Photos")).to_have_attribute("aria-invalid", "true")
    expect(jeans.get_by_label("Comment (optional)")).to_have_value("Torn at the knee.")

    # A text file called .jpg is refused by its content; the real photo next to it is kept.
    jeans.get_by_label("Photos").set_input_files([
        {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": TEXT_NAMED_JPG},
        {"name": "knee.jpg", "mimeType": "image/jpeg", "buffer": photo_with_location()}])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("notes.jpg is not a photo we can read.")
    expect(jeans.get_by_role("img", name="Your photo knee.jpg")).to_be_visible()
    assert_fits(page)
    screenshot(page, "photos-01-items")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Check your return")).to_be_visible()
    expect(page.get_by_role("img", name="Your photo knee.jpg")).to_be_visible()
    page.get_by_role("button", name="Send return request").click()
    expect(page.get_by_role("heading", name="Return requested")).to_be_visible()
    rma = page.get_by_test_id("rma").inner_text().strip()
    page.get_by_role("link", name="See the status of my return").click()
    photo = page.get_by_role("img", name="Your photo knee.jpg")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.naturalWidth") == 64  # really loaded, not a broken icon
    screenshot(page, "photos-02-status")
    assert problems == []

    [(_row, data)] = stored_photos(app)
    assert not has_location(data)

    desk.goto("/staff/login")
    desk.get_by_label("Email").fill("agent@shop.test")
    desk.get_by_label("Password").fill("password-agent")
    desk.get_by_role("button", name="Sign in").click()
    desk.goto(f"/staff/returns/{rma}")
    seen = desk.get_by_role("img", name="Customer's photo 1 of Jeans (knee.jpg)")
    expect(seen).to_be_visible()
    assert seen.evaluate("img => img.naturalWidth") == 64
    screenshot(desk, "photos-03-console")
