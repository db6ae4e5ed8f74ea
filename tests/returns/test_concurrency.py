"""People acting on one return or one order at once: the right one wins, nothing is lost."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask

from returns_service.common.errors import EditConflict
from returns_service.db import db
from returns_service.orders.models import Order
from returns_service.returns import services
from returns_service.returns.models import Return, ReturnEvent, ReturnItem
from workflows.returns import Actor, InvalidTransition

AGENT = Actor("staff", 1, "agent@shop.test")


@pytest.mark.postgres
def test_twenty_threads_approving_and_cancelling_one_return_exactly_one_wins(
        app: Flask, make_return: Any) -> None:
    """Each thread acts on the version it saw (as the console and API clients do with
    If-Match): once one change lands, every other is a 409, whatever its trigger."""
    created = make_return()
    rma, seen = created["rma"], created["version"]
    start = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def act(n: int) -> None:
        trigger = "approve" if n % 2 else "cancel"
        with app.app_context():
            start.wait()
            try:
                action = services.approve_return if trigger == "approve" else \
                    services.cancel_return
                action(rma, Actor("staff", n, f"agent{n}"), expected_version=seen)
                db.session.commit()
                result = "won:" + trigger
            except (InvalidTransition, EditConflict):
                db.session.rollback()
                result = "409"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=act, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [o for o in outcomes if o.startswith("won")]
    assert len(outcomes) == 20
    assert len(winners) == 1 and outcomes.count("409") == 19
    with app.app_context():
        ret = services.get_return(rma)
        assert ret.status == winners[0].split(":")[1].replace("approve", "approved").replace(
            "cancel", "cancelled")
        changes = db.session.scalars(db.select(ReturnEvent).where(
            ReturnEvent.return_id == ret.id, ReturnEvent.from_status == "requested")).all()
        assert len(changes) == 1 and changes[0].to_status == ret.status


def test_version_guard_refuses_a_change_based_on_a_stale_read(
        app: Flask, make_return: Any) -> None:
    """Without row locks (e.g. SQLite, or a reader that did not lock) the version column
    still turns a lost update into a conflict."""
    rma = make_return()["rma"]
    with app.app_context():
        stale = services.get_return(rma)  # read, no lock
        assert stale.status == "requested"
        with app.app_context():  # someone else approves and commits meanwhile
            services.approve_return(rma, AGENT)
            db.session.commit()
        with pytest.raises(EditConflict):
            services.transition(stale, "cancel", AGENT)
        db.session.rollback()
    with app.app_context():
        ret = services.get_return(rma)
        assert ret.status == "approved"
        assert [e.trigger for e in ret.events if e.kind == "status"] == ["request", "approve"]


def test_a_change_made_outside_a_transition_is_written_the_same_way(
        app: Flask, make_return: Any) -> None:
    """A review flag (set on the object, no trigger) is written by returns.writes at the
    next flush: its note with it, and under the same version guard."""
    from returns_service.returns.review import flag_for_review

    rma = make_return()["rma"]
    with app.app_context():
        ret = services.get_return(rma)
        flag_for_review(ret, "Check the parcel photos.", AGENT)
        db.session.commit()
    with app.app_context():
        ret = services.get_return(rma)
        assert (ret.needs_review, ret.review_reason, ret.version) == (
            True, "Check the parcel photos.", 2)
        assert [e.kind for e in ret.events if not e.customer_visible][-1] == "flag"
        with app.app_context():  # someone else approves and commits meanwhile
            services.approve_return(rma, AGENT)
            db.session.commit()
        flag_for_review(ret, "Stale.", AGENT)
        with pytest.raises(EditConflict):
            db.session.commit()
        db.session.rollback()
    with app.app_context():
        ret = services.get_return(rma)
        assert (ret.status, ret.review_reason) == ("approved", "Check the parcel photos.")
        assert all(e.note != "Stale." for e in ret.events)


def test_a_staff_note_added_after_a_saved_change_is_committed_with_it(
        app: Flask, make_return: Any) -> None:
    """A saved change leaves the session clean (nothing for the ORM to flush); a note
    appended afterwards, which changes no column, is still written at the commit."""
    from returns_service.returns.review import note_for_staff

    rma = make_return()["rma"]
    with app.app_context():
        ret = services.approve_return(rma, AGENT)
        assert not db.session.dirty
        note_for_staff(ret, "Customer called: parcel on its way.", AGENT, kind="note")
        db.session.commit()
    with app.app_context():
        ret = services.get_return(rma)
        assert (ret.status, ret.version) == ("approved", 2)
        assert [e.note for e in ret.events if not e.customer_visible][-1] == \
            "Customer called: parcel on its way."


def test_a_return_read_again_for_change_is_refreshed_in_place(
        app: Flask, make_return: Any) -> None:
    """Locking a return this session already holds gives that same object with what the
    database says now (another transaction's change included), its items and order too."""
    rma = make_return()["rma"]
    with app.app_context():
        seen = services.get_return(rma)
        assert (seen.status, seen.version) == ("requested", 1)
        with app.app_context():  # someone else approves and commits meanwhile
            services.approve_return(rma, AGENT)
            db.session.commit()
        locked = services.lock_return(rma)
        assert locked is seen
        assert (locked.status, locked.version) == ("approved", 2)
        assert [i.order_line.sku for i in locked.items] and locked.order.email
        services.cancel_return(rma, AGENT, expected_version=2)
        db.session.commit()
    with app.app_context():
        assert services.get_return(rma).status == "cancelled"


@pytest.mark.postgres
def test_ten_simultaneous_requests_for_two_shirts_claim_exactly_two(
        app: Flask, make_order: Any) -> None:
    """The order is row-locked as it is looked up (number + email), so ten tabs submitting
    at once cannot over-claim a line of two: two requests are accepted, eight refused with
    the quantity error, and the claimed total is two."""
    make_order("C2001")
    start = threading.Barrier(10)
    statuses: list[int] = []
    lock = threading.Lock()
    body = {"order_number": "C2001", "email": "jane@example.com",
            "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]}

    def request_one() -> None:
        client = app.test_client()
        start.wait()
        response = client.post("/api/v1/returns", json=body)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=request_one) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201, 201] + [422] * 8
    with app.app_context():
        claimed = db.session.scalar(
            db.select(db.func.sum(ReturnItem.quantity)).join(Return).join(Order)
            .where(Order.number == "C2001"))
    assert claimed == 2


@pytest.mark.postgres
def test_an_order_lock_is_taken_again_in_each_new_transaction(
        app: Flask, make_order: Any) -> None:
    """lock_order skips the read for an order already locked in this transaction; after a
    commit the lock is gone, so the next transaction must take it again."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from returns_service.orders.services import lock_order

    make_order("C2002")

    def locked_elsewhere(order_id: int) -> bool:
        with db.engine.connect() as other:
            try:
                other.execute(text("SELECT 1 FROM orders WHERE id = :id FOR UPDATE NOWAIT"),
                              {"id": order_id})
            except OperationalError:
                return True
            return False

    with app.app_context():
        order_id = db.session.scalar(db.select(Order.id).where(Order.number == "C2002"))
        assert lock_order(order_id) is lock_order(order_id)  # read once per transaction
        assert locked_elsewhere(order_id)
        db.session.commit()
        assert not locked_elsewhere(order_id)
        lock_order(order_id)
        assert locked_elsewhere(order_id)
        db.session.rollback()


@pytest.mark.postgres
def test_two_admins_creating_the_same_user_at_once_get_one_user_and_a_field_error(
        app: Flask) -> None:
    """A double click on "Create user": the second request checks before the first commits,
    then meets its row at the unique index. It answered 500; it is the field error now."""
    from returns_service.common.errors import ValidationFailed
    from returns_service.staff.services import create_user

    first_inserted, first_may_commit = threading.Event(), threading.Event()
    outcomes: list[str] = []

    def first() -> None:
        with app.app_context():
            create_user("kim@shop.test", "agent", "password-long-enough-1")
            first_inserted.set()
            first_may_commit.wait(10)
            db.session.commit()
            outcomes.append("created")

    def second() -> None:
        with app.app_context():
            first_inserted.wait(10)
            # The first row is not committed: the check finds nothing; the insert then waits
            # on the unique index until the first commits.
            threading.Timer(0.5, first_may_commit.set).start()
            try:
                create_user("kim@shop.test", "agent", "password-long-enough-2")
                db.session.commit()
                outcomes.append("created")
            except ValidationFailed as exc:
                db.session.rollback()
                outcomes.append(exc.errors["email"][0])

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["A staff user with this email already exists.", "created"]


@pytest.mark.postgres
def test_two_ratings_sent_at_once_both_succeed_and_the_last_wins(
        app: Flask, api: Any, make_return: Any) -> None:
    """A double click on "Send my rating": the second answer used to hit the unique index
    (a 500, and the rating lost); now it updates the first."""
    from returns_service.feedback.models import Feedback, FeedbackAnswer
    from returns_service.feedback.services import record_feedback

    rma = make_return()["rma"]
    assert api.post(f"/api/v1/returns/{rma}/cancel", as_="agent", json={}).status_code == 200
    first_inserted, first_may_commit = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def first() -> None:
        with app.app_context():
            record_feedback(services.get_return(rma), rating=2)
            first_inserted.set()
            first_may_commit.wait(10)
            db.session.commit()

    def second() -> None:
        with app.app_context():
            first_inserted.wait(10)
            threading.Timer(0.5, first_may_commit.set).start()
            try:  # finds no answer yet (uncommitted), then meets it at the unique index
                record_feedback(services.get_return(rma), rating=5)
                db.session.commit()
            except BaseException as exc:  # the test reports any failure
                failures.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with app.app_context():
        assert [f.rating for f in db.session.scalars(db.select(Feedback))] == [5]
        answers = db.session.scalars(db.select(FeedbackAnswer.rating)
                                     .order_by(FeedbackAnswer.id)).all()
        assert answers == [2, 5]


@pytest.mark.postgres
def test_ticks_running_at_once_escalate_each_waiting_return_once(
        app: Flask, make_return: Any, frozen_now: Any) -> None:
    """The tick runs from cron, a loop and RQ's cron at once on some installs."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from returns_service.common import clock
    from returns_service.notifications.schedule import escalate_waiting
    for n in range(8):  # (the api fixture behind make_return has made an active agent)
        make_return(f"E{n}")
    clock.freeze(frozen_now + timedelta(hours=30))
    start = threading.Barrier(4)
    counts: list[int] = []

    def tick() -> None:
        with app.app_context():
            start.wait()
            counts.append(escalate_waiting(clock.utcnow()))

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 8
    with app.app_context():
        per_return = db.session.execute(
            select(ReturnEvent.return_id, func.count()).where(ReturnEvent.kind == "escalation")
            .group_by(ReturnEvent.return_id)).all()
        assert len(per_return) == 8 and {n for _, n in per_return} == {1}


def _wait_until_someone_waits_for_a_lock() -> None:
    """Until a backend of this database waits for a row lock (the reader below)."""
    import psycopg

    from tests.conftest import TEST_DATABASE_URL
    from tests.support.workers import wait_for

    with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as admin:
        assert wait_for(lambda: admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()").fetchone()[0], timeout=10), \
            "nobody waited for the lock"


def _read_while_another_changes(app: Flask, rma: str, change: Any) -> tuple[Any, ...]:
    """`change(ret)` runs on the locked return in one thread; another thread reads the return
    for a change meanwhile (it waits for the lock). What the reader saw once it got it."""
    holding = threading.Event()
    seen: dict[str, Any] = {}

    def reader() -> None:
        holding.wait()
        with app.app_context():
            ret = services.lock_return(rma)
            seen["what"] = (ret.status, ret.version, [
                (item.received_quantity, item.condition) for item in ret.items])
            db.session.rollback()

    thread = threading.Thread(target=reader)
    thread.start()
    with app.app_context():
        ret = services.lock_return(rma)
        change(ret)
        holding.set()
        _wait_until_someone_waits_for_a_lock()
        db.session.commit()
    thread.join()
    return seen["what"]


@pytest.mark.postgres
def test_a_reader_that_waited_for_the_lock_sees_the_parcel_the_warehouse_recorded(
        app: Flask, make_return: Any) -> None:
    """An agent's change begun while the warehouse records the parcel waits, then works on
    the return as the warehouse left it: status, version and every item's receipt."""
    rma = make_return()["rma"]
    with app.app_context():
        services.approve_return(rma, AGENT)
        db.session.commit()

    def receive(ret: Return) -> None:
        services.receive_return(ret.rma, [{"sku": "SHIRT", "quantity": 1,
                                           "condition": "damaged"}], AGENT)

    status, version, items = _read_while_another_changes(app, rma, receive)
    assert status == "refund_pending" and items == [(1, "damaged")]
    with app.app_context():
        assert version == services.get_return(rma).version


@pytest.mark.postgres
def test_a_change_to_the_items_alone_is_seen_by_a_reader_that_waited(
        app: Flask, make_return: Any) -> None:
    """A change of the items only (a parcel checked after a refund on first scan) moves the
    return's version, so a reader that waited for the lock reads the items afresh."""
    from returns_service.returns.writes import save

    created = make_return()
    rma = created["rma"]

    def check(ret: Return) -> None:
        ret.items[0].received_quantity, ret.items[0].condition = 1, "resellable"
        save(ret)

    status, version, items = _read_while_another_changes(app, rma, check)
    assert (status, items) == ("requested", [(1, "resellable")])
    assert version == created["version"] + 1


@pytest.mark.postgres
@pytest.mark.parametrize("clock_frozen", [False, True], ids=["clock running", "clock frozen"])
def test_a_return_asked_for_while_the_store_updates_its_order_is_checked_against_the_update(
        app: Flask, api: Any, make_order: Any, clock_frozen: bool) -> None:
    """The store cuts a line from two shirts to one while the customer asks to return two:
    the request waits for the order's lock, then is checked against the one shirt left
    (also when the update lands at the very instant the order was written)."""
    from returns_service.common import clock
    from returns_service.orders.schemas import OrderIn
    from returns_service.orders.services import upsert_order
    from tests.conftest import order_payload

    if clock_frozen:
        clock.freeze(clock.utcnow())  # the app fixture unfreezes it afterwards
    make_order("A1001")
    update = order_payload("A1001")
    update["lines"][0]["quantity"] = 1
    asked = threading.Event()
    answers: list[Any] = []

    def customer() -> None:
        asked.wait()
        answers.append(api.post("/api/v1/returns", json={
            "order_number": "A1001", "email": "jane@example.com",
            "items": [{"sku": "SHIRT", "quantity": 2, "reason": "doesnt_fit"}]}))

    thread = threading.Thread(target=customer)
    thread.start()
    with app.app_context():
        upsert_order(OrderIn().load(update))
        asked.set()
        _wait_until_someone_waits_for_a_lock()
        db.session.commit()
    thread.join()
    assert answers[0].status_code == 422, answers[0].json
    assert answers[0].json["errors"] == {
        "items.0.quantity": ["You can return between 1 and 1 of this item."]}


def test_a_failure_inside_a_held_change_writes_nothing_even_if_the_caller_commits(
        app: Flask, make_return: Any) -> None:
    """A receipt's or approval's changes are held and written at the end (written_once): when
    something fails in between, none of them is written, not even its audit events."""
    from returns_service.returns.writes import written_once

    created = make_return()
    with app.app_context():
        ret = services.lock_return(created["rma"])
        with pytest.raises(RuntimeError), written_once(ret):
            services.transition(ret, "approve", AGENT)
            raise RuntimeError("a subscriber failed")
        db.session.commit()
    with app.app_context():
        ret = services.get_return(created["rma"])
        assert (ret.status, ret.version) == ("requested", created["version"])
        assert [e.trigger for e in ret.events if e.kind == "status"] == ["request"]


def test_a_held_change_inside_another_is_written_with_it(app: Flask, make_return: Any) -> None:
    from returns_service.returns.writes import written_once

    created = make_return()
    with app.app_context():
        ret = services.lock_return(created["rma"])
        with written_once(ret):
            with written_once(ret):
                services.transition(ret, "approve", AGENT)
            services.transition(ret, "cancel", AGENT)
        db.session.commit()
    with app.app_context():
        ret = services.get_return(created["rma"])
        assert (ret.status, ret.version) == ("cancelled", created["version"] + 1)
        assert [e.trigger for e in ret.events if e.kind == "status"] == [
            "request", "approve", "cancel"]
