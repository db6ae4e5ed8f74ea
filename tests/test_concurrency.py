"""Two people acting on one return at once: exactly one wins, nothing is lost."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask

from returns_service.errors import EditConflict
from returns_service.extensions import db
from returns_service.returns import services
from returns_service.returns.models import ReturnEvent
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
