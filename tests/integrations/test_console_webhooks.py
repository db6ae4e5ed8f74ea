"""The console's Webhooks pages: admins only; errors next to the fields (test client); in
real Chromium, an admin subscribes a receiver, copies the secret shown once, sees the
delivery log fill up, sends a test event and resends one."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.console.test_browser import sign_in
from tests.support.console import login
from tests.support.forms import csrf_from


def test_only_admins_see_the_webhooks_pages(app, client, tokens):
    login(client, "agent")
    assert client.get("/staff/webhooks").status_code == 403
    assert "Webhooks" not in client.get("/staff/", follow_redirects=True).get_data(as_text=True)


def test_a_refused_url_and_no_events_are_shown_next_to_the_fields(build_app, tokens, app):
    strict = build_app(WEBHOOK_ALLOW_PRIVATE_TARGETS=False).test_client()
    login(strict, "admin")
    page = strict.get("/staff/webhooks").get_data(as_text=True)
    answer = strict.post("/staff/webhooks", data={
        "csrf_token": csrf_from(page), "url": "http://169.254.169.254/latest",
        "description": "metadata service"})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "Choose at least one event." in text
    answer = strict.post("/staff/webhooks", data={
        "csrf_token": csrf_from(page), "url": "http://169.254.169.254/latest",
        "event_types": ["*"]})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="url-error"' in text and "link-local" in text
    assert "No endpoint yet." in text


@pytest.mark.browser
def test_admin_subscribes_a_receiver_and_follows_the_delivery_log(desk, make_return, receiver):
    page = desk
    sign_in(page, "admin@shop.test", "password-admin")
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_label("Endpoint URL").fill(receiver.url)
    page.get_by_label("Description").fill("Warehouse system")
    page.get_by_label("return.received").check()
    page.get_by_label("return.requested").check()
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_role("heading", name="Endpoint created: copy its signing secret now")
           ).to_be_visible()
    secret = page.get_by_role("textbox", name="Signing secret").input_value()
    assert secret.startswith("whsec_")
    receiver.secrets.append(secret)

    rma = make_return()["rma"]
    page.get_by_role("link", name="Open the endpoint").click()
    log = page.locator("table tbody")
    expect(log.get_by_text("return.requested")).to_be_visible()
    expect(log.get_by_text("delivered")).to_be_visible()
    assert receiver.accepted()[0].payload["data"]["return"]["rma"] == rma

    page.get_by_role("button", name="Send test event").click()
    expect(page.get_by_text("Test event queued")).to_be_visible()
    expect(log.get_by_text("webhook.test")).to_be_visible()
    page.get_by_role("button", name="Resend event 1").click()
    expect(page.get_by_text("Event #1 queued again.")).to_be_visible()
    assert [r.payload["type"] for r in receiver.accepted()] == [
        "return.requested", "webhook.test", "return.requested"]
    assert receiver.accepted()[0].webhook_id == receiver.accepted()[2].webhook_id
