"""Real Chromium, the rest of the workspace: an SMS round trip against the fake Twilio
(opt-in on the status page, the agent's reply by SMS, the customer's text back in the
console), bulk approve of 20 from the queue, the message response times on the dashboard,
and an agent stepping out of the round robin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from returns_service.common import clock
from returns_service.conversations.services import post_agent_reply, post_customer_message
from returns_service.db import db
from returns_service.returns.services import get_return
from returns_service.staff.models import StaffUser
from tests.conversations.conftest import status_path
from tests.conversations.test_browser import sign_in
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER
from tests.webhooks.test_twilio_sms import PHONE, twilio_post

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(app_config, fake_twilio):
    app_config.update(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                      TWILIO_FROM_NUMBER=FROM_NUMBER, TWILIO_API_BASE=fake_twilio.url)
    return app_config


def test_sms_round_trip_in_the_browser(app, client, desk, make_return, tokens, fake_twilio,
                                       live_server):
    rma = make_return()["rma"]
    page = desk
    page.goto(status_path(app, rma))
    page.get_by_label("Mobile number for SMS updates").fill("+44 7700 900123")
    page.get_by_role("button", name="Text me updates").click()
    expect(page.get_by_text(f"SMS updates go to {PHONE}")).to_be_visible()

    sign_in(page, "agent@shop.test", "password-agent")
    page.goto(f"/staff/returns/{rma}")
    page.get_by_label("Reply to the customer").fill("Drop it at any post office.")
    page.get_by_label("Send by").select_option(label="SMS")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("The customer gets it by SMS.")).to_be_visible()
    assert [m["body"] for m in fake_twilio.to(PHONE)] == ["Drop it at any post office."]

    # The customer texts back (Twilio's signed webhook, to the address Twilio calls).
    app.config["PUBLIC_BASE_URL"] = "http://returns.test"
    answer = twilio_post(client, "/webhooks/twilio/inbound", {
        "From": PHONE, "To": FROM_NUMBER, "Body": "Done, thanks!",
        "MessageSid": "SM" + "3" * 32, "AccountSid": ACCOUNT_SID})
    assert answer.status_code == 200
    page.reload()
    conversation = page.get_by_role("region", name="Conversation")
    expect(conversation.get_by_text("Done, thanks!")).to_be_visible()
    page.get_by_role("link", name="Queue", exact=True).click()
    expect(page.get_by_role("link", name="Waiting on us (1)")).to_be_visible()


def test_bulk_approve_of_twenty_from_the_queue(app, desk, make_return, tokens):
    rmas = [make_return(f"C{n:04d}")["rma"] for n in range(20)]
    page = desk
    sign_in(page, "agent@shop.test", "password-agent")
    page.goto("/staff/returns?per_page=25")
    for rma in rmas:
        page.get_by_label(f"Select {rma}").check()
    page.get_by_label("Action on the selected returns").select_option(label="Approve")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_text("Approved 20 of 20 returns.")).to_be_visible()
    with app.app_context():
        assert {get_return(rma).status for rma in rmas} == {"approved"}


def test_dashboard_shows_message_response_times(app, desk, make_return, tokens, frozen_now):
    rma = make_return()["rma"]

    def at(hours, write):
        clock.freeze(frozen_now + timedelta(hours=hours))
        with app.app_context():
            agent = db.session.query(StaffUser).filter_by(email="agent@shop.test").one()
            write(get_return(rma), agent)
            db.session.commit()

    at(1, lambda r, a: post_customer_message(r, "Hello?", channel="web"))
    at(4, lambda r, a: post_agent_reply(r, a, "Here we are."))  # 3 h
    at(5, lambda r, a: post_customer_message(r, "One more thing", channel="web"))
    at(35, lambda r, a: post_agent_reply(r, a, "Sure."))  # 30 h: past the 24 h target
    clock.freeze(frozen_now + timedelta(days=2))

    page = desk
    sign_in(page, "agent@shop.test", "password-agent")
    day = frozen_now.date()
    page.goto(f"/staff/dashboard?from={day.isoformat()}&to={(day + timedelta(days=3))}")
    first = page.get_by_role("row", name="First response to customer messages")
    expect(first.get_by_role("cell")).to_have_text(["1", "3.0 h", "3.0 h"])  # count, median, p90
    replies = page.get_by_role("row", name="Reply time on customer messages")
    expect(replies.get_by_role("cell").nth(1)).to_have_text("16.5 h")
    expect(page.get_by_text("Message replies over 24 h")).to_be_visible()


def test_an_agent_steps_out_of_the_round_robin(app, desk, make_return, tokens):
    app.config["AUTO_ASSIGN"] = True
    page = desk
    sign_in(page, "agent@shop.test", "password-agent")
    page.get_by_role("link", name="Agents").click()
    expect(page.get_by_text("Round robin is on")).to_be_visible()
    page.get_by_role("button", name="Mark Agent away").click()
    expect(page.get_by_text("You are away: no new returns by round robin.")).to_be_visible()
    expect(page.get_by_role("row", name="Agent (you)")).to_contain_text("by agent@shop.test")
    # The admin is the only other one in turn: new returns go to them.
    rma = make_return()["rma"]
    page.goto(f"/staff/returns/{rma}")
    expect(page.get_by_text("Assigned to Admin (round robin)")).to_be_visible()
    page.get_by_role("link", name="Agents").click()
    page.get_by_role("button", name="Mark Agent available").click()
    expect(page.get_by_text("You are available.")).to_be_visible()
