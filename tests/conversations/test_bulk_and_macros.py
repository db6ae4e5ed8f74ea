"""Bulk actions on the queue (each return checked and audited on its own, partial failures
named) and macros (placeholders filled, an approving macro approves)."""

from __future__ import annotations

from sqlalchemy import func, select

from returns_service.db import db
from returns_service.returns.models import Return, ReturnEvent
from tests.support.console import login, state, token
from tests.support.smtp import parts


def _bulk(staff, rmas, **fields):
    return staff.post("/staff/returns/bulk", data={
        "csrf_token": token(staff), "rma": rmas, **fields}, follow_redirects=True)


def test_bulk_approve_of_twenty_each_audited(app, api, make_return, tokens):
    rmas = [make_return(f"B{n:04d}")["rma"] for n in range(20)]
    staff = app.test_client()
    login(staff, "agent")
    page = _bulk(staff, rmas, action="approve")
    assert "Approved 20 of 20 returns." in page.text
    assert {state(app, rma)[0] for rma in rmas} == {"approved"}
    with app.app_context():
        approvals = db.session.scalar(select(func.count()).select_from(ReturnEvent).where(
            ReturnEvent.trigger == "approve", ReturnEvent.actor_label == "agent@shop.test"))
        assert approvals == 20  # one audit event per return


def test_bulk_reject_reports_which_failed_and_why(app, api, make_return, tokens):
    rmas = [make_return(f"C{n:04d}")["rma"] for n in range(3)]
    api.post(f"/api/v1/returns/{rmas[1]}/approve", as_="agent", json={})
    staff = app.test_client()
    login(staff, "agent")
    page = _bulk(staff, rmas, action="reject", reason="used", note="Worn.")
    assert "Rejected 2 of 3 returns." in page.text
    assert f"{rmas[1]} not changed" in page.text
    assert [state(app, r)[0] for r in rmas] == ["rejected", "approved", "rejected"]
    missing_reason = _bulk(staff, [rmas[1]], action="reject")
    assert "Choose a rejection reason" in missing_reason.text


def test_bulk_needs_the_permission_of_each_action(app, make_return, tokens):
    rma = make_return()["rma"]
    staff = app.test_client()
    login(staff, "warehouse")
    assert staff.post("/staff/returns/bulk", data={
        "csrf_token": token(staff), "rma": [rma], "action": "approve"}).status_code == 403
    assert state(app, rma)[0] == "requested"


def test_admin_writes_a_macro_and_an_agent_approves_and_replies_with_it(
        app, make_return, tokens, smtp_server):
    rma = make_return()["rma"]
    admin = app.test_client()
    login(admin, "admin")
    bad = admin.post("/staff/macros", data={"csrf_token": token(admin), "name": "Bad",
                                            "body": "Hi {password}", "action": ""})
    assert bad.status_code == 422 and "Unknown placeholder {password}" in bad.text
    saved = admin.post("/staff/macros", data={
        "csrf_token": token(admin), "name": "Approve and explain", "action": "approve",
        "body": "Hi {first_name}, return {rma} is approved; we expect to refund "
                "{refund_amount}."}, follow_redirects=True)
    assert "Macro “Approve and explain” saved." in saved.text

    agent = app.test_client()
    login(agent, "agent")
    assert agent.get("/staff/macros").status_code == 403  # admins write macros
    page = agent.get(f"/staff/returns/{rma}")
    macro_select = page.text.split('id="macro"', 1)[1]
    macro_id = macro_select.split('<option value="', 1)[1].split('"', 1)[0]
    filled = agent.get(f"/staff/returns/{rma}?macro={macro_id}").text
    assert f"Hi Jane, return {rma} is approved; we expect to refund" in filled
    assert "also approves the return" in filled
    sent = agent.post(f"/staff/returns/{rma}/reply", data={
        "csrf_token": token(agent), "macro_id": macro_id,
        "body": f"Hi Jane, return {rma} is approved."}, follow_redirects=True)
    assert "Approved and replied." in sent.text
    assert state(app, rma)[0] == "approved"
    [reply] = smtp_server.with_subject(f"About your return {rma}")
    assert f"Hi Jane, return {rma} is approved." in parts(reply)[0]
    with app.app_context():
        assert db.session.scalar(select(Return.status).where(Return.rma == rma)) == "approved"
