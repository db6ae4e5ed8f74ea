"""The conversation API: read a return's conversation and notes, reply once per
Idempotency-Key, add internal notes the customer never gets, claim / assign / unassign,
each refused with problem+json to roles the permission table leaves out."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from returns_service.conversations.models import ConversationMessage
from returns_service.db import db
from returns_service.notifications.models import Notification
from returns_service.staff.models import StaffUser
from tests.conversations.conftest import status_path
from tests.support.smtp import parts

SECRET = "Asked for a refund on three orders this week, check the parcel"


def _user_id(app, role):
    with app.app_context():
        return db.session.scalar(select(StaffUser.id).where(
            StaffUser.email == f"{role}@shop.test"))


def _reply(api, rma, body, key="reply-1", channel=None, as_="agent"):
    headers = {"Idempotency-Key": key} if key else {}
    payload = {"body": body, **({"channel": channel} if channel else {})}
    return api.post(f"/api/v1/returns/{rma}/conversation/replies", as_=as_, json=payload,
                    headers=headers)


def test_an_agent_replies_through_the_api_once_per_idempotency_key(
        app, client, api, make_return, smtp_server):
    rma = make_return()["rma"]
    first = _reply(api, rma, "Any post office will do.")
    assert first.status_code == 201, first.json
    assert first.json["direction"] == "outbound" and first.json["channel"] == "email"
    again = _reply(api, rma, "Any post office will do.")
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json["id"] == first.json["id"]
    # Another text under the same key is refused, not sent.
    other = _reply(api, rma, "Something else entirely.")
    assert other.status_code == 422
    assert other.json["type"].endswith("idempotency-key-reused")

    [email] = smtp_server.with_subject(f"About your return {rma}")
    assert "Any post office will do." in parts(email)[0]
    conversation = api.get(f"/api/v1/returns/{rma}/conversation", as_="agent").json
    assert [m["body"] for m in conversation["messages"]] == ["Any post office will do."]
    assert conversation["waiting_on"] == "customer"
    assert "Any post office will do." in client.get(status_path(app, rma)).text


def test_reply_errors_are_problems(api, make_return):
    rma = make_return()["rma"]
    missing = _reply(api, rma, "Hello", key=None)
    assert missing.status_code == 400
    assert "Idempotency-Key" in missing.json["detail"]
    assert _reply(api, rma, "", key="k-empty").status_code == 422
    no_phone = _reply(api, rma, "Hello", key="k-sms", channel="sms")
    assert no_phone.status_code == 422 and "SMS" in str(no_phone.json["errors"])
    assert _reply(api, "R-NOSUCH", "Hello", key="k-404").status_code == 404
    # Warehouse staff may read the conversation, not answer the customer.
    assert _reply(api, rma, "Hello", key="k-wh", as_="warehouse").status_code == 403
    assert api.get(f"/api/v1/returns/{rma}/conversation", as_="warehouse").status_code == 200
    assert api.get(f"/api/v1/returns/{rma}/conversation", as_="integration").status_code == 403
    assert api.get(f"/api/v1/returns/{rma}/conversation").status_code == 401


def test_an_internal_note_through_the_api_never_reaches_the_customer(
        app, client, api, make_return, smtp_server):
    rma = make_return()["rma"]
    note = api.post(f"/api/v1/returns/{rma}/conversation/notes", as_="warehouse",
                    json={"body": f"{SECRET} @agent"})
    assert note.status_code == 201, note.json
    assert note.json["mentions"] == [_user_id(app, "agent")]
    conversation = api.get(f"/api/v1/returns/{rma}/conversation", as_="agent").json
    assert [n["body"] for n in conversation["notes"]] == [f"{SECRET} @agent"]
    assert conversation["messages"] == []
    # The colleague is told; the customer gets nothing of it, in no email nor page.
    [mention] = smtp_server.to("agent@shop.test")
    assert SECRET in parts(mention)[0]
    assert _reply(api, rma, "We are checking your parcel.").status_code == 201
    to_customer = smtp_server.to("jane@example.com")
    assert to_customer and all(SECRET not in "".join(parts(m)) for m in to_customer)
    assert SECRET not in client.get(status_path(app, rma)).text
    assert api.post(f"/api/v1/returns/{rma}/conversation/notes", as_="agent",
                    json={"body": "  "}).status_code == 422
    assert api.post(f"/api/v1/returns/{rma}/conversation/notes", as_="integration",
                    json={"body": "x"}).status_code == 403


def test_claim_assign_and_unassign(app, api, make_return):
    rma = make_return()["rma"]
    claimed = api.post(f"/api/v1/returns/{rma}/claim", as_="agent")
    assert claimed.status_code == 200
    assert claimed.json["assignee"]["email"] == "agent@shop.test"
    admin = _user_id(app, "admin")
    moved = api.call("PUT", f"/api/v1/returns/{rma}/assignee", as_="agent",
                     json={"assignee_id": admin})
    assert moved.json["assignee"]["id"] == admin
    refused = api.call("PUT", f"/api/v1/returns/{rma}/assignee", as_="agent",
                       json={"assignee_id": _user_id(app, "warehouse")})
    assert refused.status_code == 422 and "assignee" in refused.json["errors"]
    assert api.call("PUT", f"/api/v1/returns/{rma}/assignee", as_="agent",
                    json={"assignee_id": "me"}).status_code == 422
    assert api.post(f"/api/v1/returns/{rma}/claim", as_="warehouse").status_code == 403
    gone = api.post(f"/api/v1/returns/{rma}/unassign", as_="agent")
    assert gone.status_code == 200 and gone.json["assignee"] is None
    events = api.get(f"/api/v1/returns/{rma}/events", as_="agent").json
    assert [e["note"] for e in events if e["kind"] == "assignment"] == [
        "Claimed by Agent", "Assigned to Admin", "Unassigned"]


def test_the_openapi_document_describes_the_conversation_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/returns/{rma}/conversation",
                 "/api/v1/returns/{rma}/conversation/replies",
                 "/api/v1/returns/{rma}/conversation/notes", "/api/v1/returns/{rma}/claim",
                 "/api/v1/returns/{rma}/unassign", "/api/v1/returns/{rma}/assignee",
                 "/api/v1/agents", "/api/v1/agents/{user_id}/availability"):
        assert path in paths, path
    reply = paths["/api/v1/returns/{rma}/conversation/replies"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in reply["parameters"])


@pytest.mark.postgres
def test_the_same_reply_sent_twice_at_once_is_recorded_and_emailed_once(
        app, tokens, make_return):
    rma = make_return()["rma"]
    start = threading.Barrier(8)
    statuses: list[int] = []
    lock = threading.Lock()

    def send() -> None:
        client = app.test_client()
        start.wait()
        answer = client.post(f"/api/v1/returns/{rma}/conversation/replies",
                             json={"body": "On its way back to you."},
                             headers={"Authorization": f"Bearer {tokens['agent']}",
                                      "Idempotency-Key": "double-click"})
        with lock:
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 7 + [201]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConversationMessage)) == 1
        assert db.session.scalar(select(func.count()).select_from(Notification)
                                 .where(Notification.step == "agent_reply")) == 1
