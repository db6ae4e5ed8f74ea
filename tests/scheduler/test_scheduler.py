"""Scheduled work in one place: every domain's periodic job runs in one pass, in order; on
PostgreSQL only one host runs a given pass; the old command still works for one release."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import text

from returns_service.common import clock
from returns_service.db import db
from returns_service.scheduler import schedule, tick
from returns_service.scheduler.schedule import ADVISORY_LOCK_KEY
from tests.conftest import Api
from tests.support.notify import approve


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config.update(RETURN_REMINDER_DAYS=7, RETURN_EXPIRY_DAYS=21)
    return app_config


def status_of(api: Api, rma: str) -> str:
    return api.get(f"/api/v1/returns/{rma}", as_="agent").json["status"]


def test_one_pass_runs_each_domains_periodic_job_in_order(app: Any) -> None:
    assert list(tick(app)) == ["expired", "credits_expired", "reminded", "escalated",
                               "requeued_notifications", "relayed", "webhooks_due",
                               "trackers_polled", "stalled_parcels", "photos_discarded",
                               "exchanges_charged", "exchange_payments_polled",
                               "personal_data_erased", "refunds_settled"]


def test_scheduler_tick_expires_an_overdue_return(app: Any, api: Api, make_return: Any,
                                                  frozen_now: Any) -> None:
    rma = make_return()["rma"]
    approve(api, rma)
    clock.freeze(frozen_now + timedelta(days=21, minutes=1))
    result: Result = app.test_cli_runner().invoke(args=["scheduler", "tick"])
    assert result.exit_code == 0, result.output
    assert "expired: 1" in result.output
    assert status_of(api, rma) == "expired"


def test_the_old_notify_tick_still_runs_a_pass_and_names_its_successor(
        app: Any, api: Api, make_return: Any, frozen_now: Any) -> None:
    rma = make_return()["rma"]
    approve(api, rma)
    clock.freeze(frozen_now + timedelta(days=21, minutes=1))
    result = app.test_cli_runner().invoke(args=["notify", "tick"])
    assert result.exit_code == 0, result.output
    assert "expired: 1" in result.output and "flask scheduler tick" in result.output
    assert status_of(api, rma) == "expired"


@pytest.mark.postgres
def test_a_host_skips_the_pass_another_host_is_running(app: Any, api: Api, make_return: Any,
                                                       frozen_now: Any) -> None:
    rma = make_return()["rma"]
    approve(api, rma)
    clock.freeze(frozen_now + timedelta(days=21, minutes=1))
    with app.app_context(), db.engine.connect() as other_host:
        assert other_host.scalar(text("SELECT pg_try_advisory_lock(:k)"),
                                 {"k": ADVISORY_LOCK_KEY})
        try:
            skipped = app.test_cli_runner().invoke(args=["scheduler", "tick"])
        finally:
            other_host.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
    assert "Skipped: another host" in skipped.output
    assert status_of(api, rma) == "approved"
    ran = app.test_cli_runner().invoke(args=["scheduler", "tick"])
    assert "expired: 1" in ran.output
    assert status_of(api, rma) == "expired"


@pytest.mark.postgres
def test_two_hosts_ticking_at_once_run_one_pass(app: Any, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    """Both start a pass while the first is still running: the second skips it."""
    started, release, passes = threading.Event(), threading.Event(), []
    real_tick = schedule.tick

    def slow_tick(app: Any, now: Any = None) -> dict[str, int]:
        passes.append(1)
        started.set()
        release.wait(10)
        return real_tick(app, now)

    monkeypatch.setattr(schedule, "tick", slow_tick)
    results: list[Any] = []
    first = threading.Thread(target=lambda: results.append(schedule.tick_if_leader(app)))
    first.start()
    assert started.wait(10)
    second = schedule.tick_if_leader(app)
    release.set()
    first.join(10)
    assert second is None and passes == [1]
    assert results and results[0] is not None
