"""Console service rules: waiting-time wording, the breach rule, retry only after a failure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from returns_service.common import clock
from returns_service.console import services as console
from returns_service.db import db
from returns_service.refunds.models import Refund
from returns_service.returns.services import get_return, lock_return, transition
from workflows.returns import Actor, InvalidTransition


@pytest.mark.parametrize(("minutes", "text"), [
    (0, "0 min"), (7, "7 min"), (60, "1 h 0 min"), (312, "5 h 12 min"),
    (24 * 60, "1 d 0 h"), (3 * 24 * 60 + 4 * 60 + 59, "3 d 4 h")])
def test_waiting_time_reads_like_staff_say_it(minutes, text):
    assert console.format_age(timedelta(minutes=minutes)) == text


def test_only_returns_awaiting_a_decision_can_breach_the_target(app, api, make_return,
                                                                frozen_now):
    waiting = make_return("A1001")["rma"]
    decided = make_return("A1002")["rma"]
    api.post(f"/api/v1/returns/{decided}/approve", as_="agent", json={})
    clock.freeze(frozen_now + timedelta(hours=24))
    with app.app_context():
        at_target = {r.ret.rma: r.breached for r in console.decision_queue(status=None).rows}
        assert at_target == {waiting: False, decided: False}  # exactly 24 h is not late
        clock.freeze(frozen_now + timedelta(hours=24, minutes=1))
        late = {r.ret.rma: r.breached for r in console.decision_queue(status=None).rows}
        assert late == {waiting: True, decided: False}


def test_retry_refund_refuses_a_return_whose_refund_did_not_fail(app, api, make_return):
    """A received return whose refund never started is not a retry (no refund row appears)."""
    rma = make_return()["rma"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    with app.app_context():
        transition(lock_return(rma), "receive", Actor.system("test"))
        db.session.commit()
    with app.app_context():
        with pytest.raises(InvalidTransition):
            console.retry_refund(rma, Actor("staff", 1, "agent@shop.test"))
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Refund)) == 0
        assert get_return(rma).status == "received"
