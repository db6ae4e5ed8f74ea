"""Real Chromium: a customer answers by email (through the SMTP receiver and through a
Mailgun webhook), the agent sees it on top of the queue and answers from the console with
a macro; the customer gets the answer by email once and sees it on the status page, never
the internal note."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from returns_service.conversations import macros
from returns_service.db import db
from tests.conversations.conftest import address_of, customer_reply, send_smtp, status_path
from tests.support.smtp import parts
from tests.webhooks.test_inbound_email import SIGNING_KEY, mailgun_form

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(app_config):
    app_config["MAILGUN_WEBHOOK_SIGNING_KEY"] = SIGNING_KEY
    return app_config


def sign_in(page, email, password):
    page.goto("/staff/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_email_replies_reach_the_agent_who_answers_with_a_macro(
        app, client, desk, make_return, tokens, receiver, smtp_server):
    by_smtp = make_return("A1001")["rma"]
    by_webhook = make_return("A1002")["rma"]
    quiet = make_return("A1003")["rma"]
    with app.app_context():
        macros.create_macro("Where to send", "Hi {first_name}, please send return {rma} "
                            "to our warehouse; we expect to refund {refund_amount}.", None)
        db.session.commit()

    send_smtp(receiver, customer_reply(address_of(app, by_smtp), "Is the label included?"))
    answer = client.post("/webhooks/inbound-email/mailgun",
                         data=mailgun_form(address_of(app, by_webhook)))
    assert answer.status_code == 200

    page = desk
    sign_in(page, "agent@shop.test", "password-agent")
    page.get_by_role("link", name="Waiting on us (2)").click()
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(2)
    expect(page.get_by_role("link", name=quiet)).to_have_count(0)

    page.get_by_role("link", name=by_smtp).click()
    conversation = page.get_by_role("region", name="Conversation")
    expect(conversation.get_by_text("Is the label included?")).to_be_visible()
    expect(conversation.get_by_text("Sent from my phone")).to_have_count(0)  # trimmed

    page.get_by_label("Internal note (staff only)").fill("Label was printed twice, odd.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_text("Internal note added.")).to_be_visible()

    page.get_by_label("Macro").select_option(label="Where to send")
    page.get_by_role("button", name="Use macro").click()
    reply = page.get_by_label("Reply to the customer")
    expect(reply).to_have_value(
        f"Hi Jane, please send return {by_smtp} to our warehouse; we expect to refund €25.00.")
    reply.fill(reply.input_value() + " The label is in the approval email.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Reply sent.")).to_be_visible()
    expect(page.get_by_role("region", name="Conversation")
           .get_by_text("The label is in the approval email.")).to_be_visible()

    [email] = smtp_server.with_subject(f"About your return {by_smtp}")
    assert "The label is in the approval email." in parts(email)[0]
    assert "printed twice" not in "".join(parts(email))

    # The customer's status page: the answer, never the note.
    page.goto(status_path(app, by_smtp))
    expect(page.get_by_text("The label is in the approval email.")).to_be_visible()
    expect(page.get_by_text("Label was printed twice, odd.")).to_have_count(0)
    page.get_by_label("Your message").fill("Thanks, found it!")
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_text("your message is sent")).to_be_visible()
    expect(page.get_by_text("Thanks, found it!")).to_be_visible()
