"""Round-robin auto-assignment (AUTO_ASSIGN): new returns and unassigned returns a customer
writes about go to the next agent in turn who is not away, audited on the timeline; the
agents' availability is audited too; concurrent assignments stay fair and single."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from returns_service.conversations import services as conversations
from returns_service.conversations.models import WorkState
from returns_service.db import db
from returns_service.returns.models import ReturnEvent
from returns_service.returns.services import get_return
from returns_service.staff import services as staff
from returns_service.staff.models import StaffUser
from tests.conversations.test_workspace import _customer_writes
from tests.support.console import login, token


@pytest.fixture
def app_config(app_config):
    app_config["AUTO_ASSIGN"] = True
    return app_config


@pytest.fixture
def agents(app, tokens):
    """Two more agents; with the admin and the agent of `tokens`, four work the queue.
    Their emails in turn order (by id)."""
    with app.app_context():
        for name in ("bea", "carl"):
            staff.create_user(f"{name}@shop.test", "agent", f"plum-tractor-{name}-1957",
                              name.title())
        db.session.commit()
    return ["admin@shop.test", "agent@shop.test", "bea@shop.test", "carl@shop.test"]


def assignee(api, rma):
    found = api.get(f"/api/v1/returns/{rma}/conversation", as_="agent").json["assignee"]
    return found and found["email"]


def user_id(app, email):
    with app.app_context():
        return db.session.scalar(select(StaffUser.id).where(StaffUser.email == email))


def test_new_returns_go_round_the_agents_skipping_who_is_away(app, api, make_return, agents):
    away = api.call("PUT", f"/api/v1/agents/{user_id(app, 'bea@shop.test')}/availability",
                    as_="admin", json={"away": True})
    assert away.status_code == 200 and away.json["away"] is True
    rmas = [make_return(f"A10{n:02d}")["rma"] for n in range(5)]
    assert [assignee(api, rma) for rma in rmas] == [
        "admin@shop.test", "agent@shop.test", "carl@shop.test", "admin@shop.test",
        "agent@shop.test"]
    events = api.get(f"/api/v1/returns/{rmas[2]}/events", as_="agent").json
    [auto] = [e for e in events if e["kind"] == "assignment"]
    assert auto["note"] == "Assigned to Carl (round robin)"
    # Back in turn: bea comes after agent again.
    api.call("PUT", f"/api/v1/agents/{user_id(app, 'bea@shop.test')}/availability",
             as_="admin", json={"away": False})
    assert assignee(api, make_return("A1099")["rma"]) == "bea@shop.test"


def test_a_customer_message_on_an_unassigned_return_assigns_it(app, client, api, make_return,
                                                                agents):
    app.config["AUTO_ASSIGN"] = False
    rma = make_return()["rma"]
    assert assignee(api, rma) is None
    app.config["AUTO_ASSIGN"] = True
    _customer_writes(app, client, rma)
    assert assignee(api, rma) == "admin@shop.test"
    # An assigned return stays with its agent when the customer writes again.
    api.post(f"/api/v1/returns/{rma}/claim", as_="agent")
    _customer_writes(app, client, rma, body="Any news?")
    assert assignee(api, rma) == "agent@shop.test"


def test_with_everyone_away_returns_wait_unassigned(app, api, make_return, agents):
    for email in agents:
        who = "agent" if email == "agent@shop.test" else "admin"
        assert api.call("PUT", f"/api/v1/agents/{user_id(app, email)}/availability", as_=who,
                        json={"away": True}).status_code == 200
    rma = make_return()["rma"]
    assert assignee(api, rma) is None
    listed = api.get("/api/v1/agents", as_="agent").json
    assert {a["email"]: a["away"] for a in listed} == dict.fromkeys(agents, True)


def test_availability_is_self_service_for_agents_and_audited(app, api, agents):
    bea = user_id(app, "bea@shop.test")
    refused = api.call("PUT", f"/api/v1/agents/{bea}/availability", as_="agent",
                       json={"away": True})
    assert refused.status_code == 403
    mine = api.call("PUT", f"/api/v1/agents/{user_id(app, 'agent@shop.test')}/availability",
                    as_="agent", json={"away": True})
    assert mine.status_code == 200
    assert api.call("PUT", f"/api/v1/agents/{user_id(app, 'warehouse@shop.test')}/availability",
                    as_="admin", json={"away": True}).status_code == 422
    assert api.call("PUT", "/api/v1/agents/999999/availability", as_="admin",
                    json={"away": True}).status_code == 404
    # The console page shows who is away and who said so; an agent marks themself back.
    desk = app.test_client()
    login(desk, "agent")
    page = desk.get("/staff/agents").text
    assert "Round robin is <strong>on</strong>" in page
    assert "by agent@shop.test" in page and "Mark Agent available" in page
    assert "Mark Bea away" not in page  # only admins change a colleague
    back = desk.post(f"/staff/agents/{user_id(app, 'agent@shop.test')}/availability",
                     data={"csrf_token": token(desk), "away": "0"}, follow_redirects=True)
    assert "You are available." in back.text
    assert desk.post(f"/staff/agents/{bea}/availability",
                     data={"csrf_token": token(desk), "away": "1"}).status_code == 403


@pytest.mark.postgres
def test_concurrent_messages_spread_returns_evenly_and_assign_each_once(
        app, make_return, agents):
    """24 unassigned returns, each written about by two customers' messages at the same
    time from 12 threads: every return is assigned once, six to each of the four agents."""
    app.config["AUTO_ASSIGN"] = False
    rmas = [make_return(f"B{n:04d}")["rma"] for n in range(24)]
    app.config["AUTO_ASSIGN"] = True
    start = threading.Barrier(12)
    errors: list[BaseException] = []

    def write(thread: int) -> None:
        with app.app_context():
            start.wait()
            for n, rma in enumerate(rmas):
                if n % 6 != thread % 6:
                    continue
                try:
                    conversations.post_customer_message(get_return(rma), f"Any news? ({thread})",
                                                        channel="web")
                    db.session.commit()
                except BaseException as exc:  # reported below, with the thread's others
                    db.session.rollback()
                    errors.append(exc)

    threads = [threading.Thread(target=write, args=(t,)) for t in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        states = db.session.scalars(select(WorkState)).all()
        assert len(states) == 24 and all(s.assignee_id for s in states)
        spread = Counter(s.assignee_id for s in states)
        assert sorted(spread.values()) == [6, 6, 6, 6]
        per_return = db.session.execute(
            select(ReturnEvent.return_id, func.count()).where(ReturnEvent.kind == "assignment")
            .group_by(ReturnEvent.return_id)).all()
        assert len(per_return) == 24 and {n for _, n in per_return} == {1}


@pytest.mark.postgres
def test_returns_requested_at_the_same_time_take_turns(app, make_order, agents):
    """12 customers request a return at the same moment: three returns for each agent."""
    numbers = [f"D{n:04d}" for n in range(12)]
    for number in numbers:
        make_order(number)
    start = threading.Barrier(12)
    statuses: list[int] = []
    lock = threading.Lock()

    def request(number: str) -> None:
        client = app.test_client()
        start.wait()
        answer = client.post("/api/v1/returns", json={
            "order_number": number, "email": "jane@example.com",
            "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]})
        with lock:
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=request, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 12
    with app.app_context():
        spread = Counter(db.session.scalars(select(WorkState.assignee_id)))
        assert sorted(spread.values()) == [3, 3, 3, 3]
