"""The conversation in the console and on the status page: the customer writes, the return
waits on us at the top of the queue, the agent answers by email exactly once, internal
notes never reach the customer."""

from __future__ import annotations

from sqlalchemy import select

from returns_service.conversations.services import messages_of
from returns_service.db import db
from returns_service.notifications.models import Notification
from returns_service.outbox.models import OutboxMessage
from returns_service.outbox.service import process
from returns_service.returns.services import get_return
from tests.conversations.conftest import REPLY_DOMAIN, status_path
from tests.portal.conftest import post_form
from tests.support.console import login, token
from tests.support.smtp import parts

SECRET = "Customer has a history of wardrobing, check carefully"


def _customer_writes(app, client, rma, body="Can I send it from abroad?"):
    path = status_path(app, rma)
    return post_form(client, path + "/message", {"body": body}, token_from=path), path


def test_customer_message_on_the_status_page_puts_the_return_on_top(
        app, client, make_return, tokens):
    older = make_return("A1001")["rma"]
    newer = make_return("A1002")["rma"]
    sent, path = _customer_writes(app, client, newer)
    assert sent.status_code == 302
    page = client.get(path).text
    assert "Can I send it from abroad?" in page

    staff = app.test_client()
    login(staff, "agent")
    queue = staff.get("/staff/returns").text
    assert queue.index(newer) < queue.index(older)  # newer, but the customer waits on us
    assert "waiting on us" in queue
    waiting = staff.get("/staff/returns?view=waiting_on_us").text
    assert newer in waiting and older not in waiting
    assert "Waiting on us (1)" in waiting


def test_an_empty_message_is_an_inline_error(app, client, make_return):
    rma = make_return()["rma"]
    sent, _ = _customer_writes(app, client, rma, body="   ")
    assert sent.status_code == 422
    assert "Write your message." in sent.text and 'aria-invalid="true"' in sent.text


def test_agent_reply_is_emailed_once_with_the_signed_reply_address(
        app, client, make_return, tokens, smtp_server):
    rma = make_return()["rma"]
    _customer_writes(app, client, rma)
    staff = app.test_client()
    login(staff, "agent")
    answer = staff.post(f"/staff/returns/{rma}/reply", data={
        "csrf_token": token(staff), "body": "Yes: any post office will do."})
    assert answer.status_code == 302
    [email] = smtp_server.with_subject(f"About your return {rma}")
    assert email["To"] == "jane@example.com"
    assert email["Reply-To"].startswith(f"returns+{rma}.")
    assert email["Reply-To"].endswith(f"@{REPLY_DOMAIN}")
    assert "Yes: any post office will do." in parts(email)[0]
    # The outbox message run again (a redelivered job) sends nothing more.
    with app.app_context():
        note = db.session.scalar(select(Notification).where(Notification.step == "agent_reply"))
        outbox = db.session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.dedupe_key == note.dedupe_key))
        assert process(outbox) == "already-processed"
        assert [(m.direction, m.body) for m in messages_of(get_return(rma).id)] == [
            ("inbound", "Can I send it from abroad?"),
            ("outbound", "Yes: any post office will do.")]
    assert len(smtp_server.with_subject(f"About your return {rma}")) == 1
    # The customer sees the answer on the status page; the return waits on them now.
    assert "Yes: any post office will do." in client.get(status_path(app, rma)).text
    assert f"{rma}" in staff.get("/staff/returns?view=waiting_on_customer").text


def test_an_internal_note_never_reaches_the_customer(
        app, client, api, make_return, tokens, smtp_server):
    rma = make_return()["rma"]
    staff = app.test_client()
    login(staff, "agent")
    added = staff.post(f"/staff/returns/{rma}/notes", data={
        "csrf_token": token(staff), "body": f"{SECRET} @admin"})
    assert added.status_code == 302
    assert SECRET in staff.get(f"/staff/returns/{rma}").text  # staff see it
    # The colleague mentioned is emailed; the customer never gets it, in no email.
    [mention] = smtp_server.to("admin@shop.test")
    assert SECRET in parts(mention)[0]
    assert mention["Reply-To"] is None or REPLY_DOMAIN not in mention["Reply-To"]
    # Anything the customer is sent from now on (an approval, a reply) leaves it out too.
    staff.post(f"/staff/returns/{rma}/reply", data={"csrf_token": token(staff),
                                                     "body": "We are looking into it."})
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    to_customer = smtp_server.to("jane@example.com")
    assert len(to_customer) >= 3
    assert all(SECRET not in "".join(parts(m)) for m in to_customer)
    assert SECRET not in client.get(status_path(app, rma)).text
    assert SECRET not in api.get(f"/api/v1/returns/{rma}", as_="agent").text


def test_claim_assign_and_the_views_counts(app, make_return, tokens):
    first = make_return("A1001")["rma"]
    second = make_return("A1002")["rma"]
    staff = app.test_client()
    login(staff, "agent")
    claimed = staff.post(f"/staff/returns/{first}/assign",
                         data={"csrf_token": token(staff), "assignee": "me"},
                         follow_redirects=True)
    assert "is now assigned to Agent" in claimed.text
    mine = staff.get("/staff/returns?view=mine").text
    assert first in mine and second not in mine
    assert "Mine (1)" in mine and "Unassigned (1)" in mine
    assert "Claimed by Agent" in staff.get(f"/staff/returns/{first}").text  # audited
    staff.post(f"/staff/returns/{first}/assign", data={"csrf_token": token(staff),
                                                        "assignee": ""})
    assert "Unassigned (2)" in staff.get("/staff/returns").text
    # Only someone who works the queue can be given a return.
    with app.app_context():
        from returns_service.staff.models import StaffUser
        warehouse = db.session.scalar(select(StaffUser.id).where(
            StaffUser.email == "warehouse@shop.test"))
    refused = staff.post(f"/staff/returns/{first}/assign",
                         data={"csrf_token": token(staff), "assignee": str(warehouse)})
    assert refused.status_code == 422


def test_warehouse_staff_cannot_reply_or_assign(app, make_return, tokens):
    rma = make_return()["rma"]
    staff = app.test_client()
    login(staff, "warehouse")
    csrf = token(staff)
    assert staff.post(f"/staff/returns/{rma}/reply",
                      data={"csrf_token": csrf, "body": "hi"}).status_code == 403
    assert staff.post(f"/staff/returns/{rma}/assign",
                      data={"csrf_token": csrf, "assignee": "me"}).status_code == 403


def test_status_page_messages_are_rate_limited(app_config, build_app, make_return):
    limited = build_app(RATELIMIT_ENABLED=True, RATELIMIT_MESSAGES="2 per minute")
    rma = make_return()["rma"]
    client = limited.test_client()
    codes = [_customer_writes(limited, client, rma, body=f"Message {n}")[0].status_code
             for n in range(3)]
    assert codes == [302, 302, 429]
