"""Scheduled work with a frozen, advanced clock: reminders, expiry, escalation to agents."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from click.testing import Result

from returns_service.common import clock
from returns_service.scheduler import tick
from tests.conftest import Api
from tests.support.notify import approve, notifications, only, receive
from tests.support.smtp import parts


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: Any) -> dict[str, Any]:
    app_config["SMTP_URL"] = smtp_server.url
    app_config.update(RETURN_REMINDER_DAYS=7, RETURN_EXPIRY_DAYS=21,
                      FIRST_RESPONSE_TARGET_HOURS=24)
    return app_config


def later(start: Any, **delta: float) -> None:
    clock.freeze(start + timedelta(**delta))


def test_reminder_once_then_expiry_with_the_customer_told(
        app: Any, api: Api, make_return: Any, smtp_server: Any, frozen_now: Any) -> None:
    rma = make_return()["rma"]
    approve(api, rma)

    later(frozen_now, days=6, hours=23)
    assert tick(app)["reminded"] == 0
    later(frozen_now, days=7, minutes=1)
    assert tick(app)["reminded"] == 1
    text, html = parts(only(smtp_server.messages, "Reminder: please send back"))
    assert rma in text and "Please send it by 23 March 2026" in text
    assert "23 March 2026" in html
    assert tick(app)["reminded"] == 0  # one reminder, however often the tick runs

    later(frozen_now, days=20, hours=23)
    assert tick(app)["expired"] == 0
    later(frozen_now, days=21, minutes=1)
    assert tick(app)["expired"] == 1
    assert api.get(f"/api/v1/returns/{rma}", as_="agent").json["status"] == "expired"
    text, _ = parts(only(smtp_server.messages, "has expired"))
    assert "within 21 days" in text and rma in text
    assert tick(app)["expired"] == 0
    assert [n.step for n in notifications(app, rma)] == [
        "requested", "approved", "reminder", "expired"]
    assert len(smtp_server.messages) == 4


def test_a_parcel_that_arrived_gets_no_reminder_and_does_not_expire(
        app: Any, api: Api, make_return: Any, smtp_server: Any, frozen_now: Any) -> None:
    rma = make_return()["rma"]
    approve(api, rma)
    later(frozen_now, days=3)
    receive(api, rma, [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}])
    later(frozen_now, days=30)
    result = tick(app)
    assert (result["reminded"], result["expired"]) == (0, 0)
    assert "reminder" not in [n.step for n in notifications(app, rma)]


def test_requests_waiting_past_the_target_are_escalated_to_agents_once(
        app: Any, api: Api, make_return: Any, make_order: Any, smtp_server: Any,
        frozen_now: Any) -> None:
    first = make_return("A1")["rma"]
    later(frozen_now, hours=2)
    second = make_return("A2")["rma"]
    decided = make_return("A3")["rma"]
    approve(api, decided)

    later(frozen_now, hours=23)
    assert tick(app)["escalated"] == 0
    later(frozen_now, hours=24)  # exactly the target: not past it (as the queue and report)
    assert tick(app)["escalated"] == 0
    later(frozen_now, hours=25)
    assert tick(app)["escalated"] == 1  # only the first has waited 24 h
    digest = only(smtp_server.messages, "waiting for a decision")
    assert digest["To"] == "agent@shop.test"  # active agents only; not admin or warehouse
    text, html = parts(digest)
    assert first in text and first in html and "waiting 25 h" in text
    assert second not in text and decided not in text
    assert tick(app)["escalated"] == 0

    later(frozen_now, hours=27)
    assert tick(app)["escalated"] == 1
    assert second in parts(smtp_server.with_subject("waiting for a decision")[-1])[0]
    assert len(smtp_server.with_subject("waiting for a decision")) == 2
    events = api.get(f"/api/v1/returns/{first}/events", as_="agent").json
    escalation = [e for e in events if e["kind"] == "escalation"]
    assert len(escalation) == 1 and escalation[0]["customer_visible"] is False


def test_tick_command(app: Any, make_return: Any, frozen_now: Any) -> None:
    make_return()
    later(frozen_now, days=2)
    result: Result = app.test_cli_runner().invoke(args=["notify", "tick"])
    assert result.exit_code == 0, result.output
    assert "expired: 0, reminded: 0, escalated: 1" in result.output
    status = app.test_cli_runner().invoke(args=["notify", "status"])
    assert "sent\t2" in status.output  # the request + the agents digest


def test_a_repeating_tick_outlives_a_failed_pass(app: Any, make_return: Any, frozen_now: Any,
                                               monkeypatch: pytest.MonkeyPatch,
                                               caplog: pytest.LogCaptureFixture) -> None:
    """`flask scheduler run --every N` runs for days: a database restart must not end it."""
    from sqlalchemy.exc import OperationalError

    from returns_service.common import loop
    from returns_service.scheduler import schedule

    make_return()
    later(frozen_now, days=2)
    real_tick, calls, sleeps = schedule.tick, [], []

    def tick_with_the_database_down_once(app: Any, now: Any = None) -> dict[str, int]:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        return real_tick(app, now)

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise KeyboardInterrupt  # the operator stops it

    monkeypatch.setattr(schedule, "tick", tick_with_the_database_down_once)
    monkeypatch.setattr(loop.time, "sleep", sleep)
    result = app.test_cli_runner().invoke(args=["scheduler", "run", "--every", "60"])
    assert sleeps == [60, 60] and len(calls) == 2
    assert "escalated: 1" in result.output  # the second pass did the work
    assert any("this pass failed" in r.message for r in caplog.records)


@pytest.mark.redis
def test_the_tick_runs_as_an_rq_job(app: Any, api: Api, make_return: Any, smtp_server: Any,
                                    frozen_now: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from redis import Redis
    from rq import Queue

    from returns_service import worker
    from returns_service.worker import SimpleWorker
    from tests.conftest import TEST_REDIS_URL

    rma = make_return()["rma"]
    approve(api, rma)
    later(frozen_now, days=22)
    monkeypatch.setattr(worker, "_app", None)
    worker.set_app(app)
    redis = Redis.from_url(TEST_REDIS_URL)
    queue = Queue("notify-cron", connection=redis)
    queue.empty()
    queue.enqueue("returns_service.worker.scheduled_tick")
    SimpleWorker([queue], connection=redis).work(burst=True)
    monkeypatch.setattr(worker, "_app", None)
    assert api.get(f"/api/v1/returns/{rma}", as_="agent").json["status"] == "expired"
    assert len(smtp_server.with_subject("has expired")) == 1
