"""The periodic jobs of one app, one pass over them (a tick), and which host runs it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy import text

from returns_service.common.clock import utcnow
from returns_service.db import db

# pg_try_advisory_lock key of the scheduler ("rets" in ASCII).
ADVISORY_LOCK_KEY = 0x72657473


@dataclass(frozen=True)
class PeriodicJob:
    name: str  # the key of its count in a tick's summary
    run: Callable[[datetime], int]  # does one pass as of `now`; answers how much it did
    position: int  # lower runs first; jobs that wait on other services go last
    in_app_context: bool = True  # False: the job manages app contexts itself


def register_periodic(app: Flask, name: str, run: Callable[[datetime], int], *,
                      position: int, in_app_context: bool = True) -> None:
    """Add a periodic job to this app's schedule (the same name again replaces it)."""
    jobs: dict[str, PeriodicJob] = app.extensions.setdefault("periodic_jobs", {})
    jobs[name] = PeriodicJob(name, run, position, in_app_context)


def periodic_jobs(app: Flask) -> list[PeriodicJob]:
    return sorted(app.extensions.get("periodic_jobs", {}).values(), key=lambda j: j.position)


def tick(app: Flask, now: datetime | None = None) -> dict[str, int]:
    """Run every periodic job once, in order; how much each did, by name."""
    now = now or utcnow()
    result: dict[str, int] = {}
    for job in periodic_jobs(app):
        if job.in_app_context:
            with app.app_context():
                result[job.name] = job.run(now)
        else:
            result[job.name] = job.run(now)
    return result


@contextmanager
def leadership(app: Flask) -> Iterator[bool]:
    """Whether this process may run the next pass: on PostgreSQL, whether it got the
    scheduler's advisory lock (held until the block ends); elsewhere always."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            yield True
            return
        with db.engine.connect() as connection:
            got = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"),
                                         {"key": ADVISORY_LOCK_KEY}))
            try:
                yield got
            finally:
                if got:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                       {"key": ADVISORY_LOCK_KEY})
                connection.rollback()


def tick_if_leader(app: Flask, now: datetime | None = None) -> dict[str, int] | None:
    """One pass unless another host is running one right now (then None)."""
    with leadership(app) as leader:
        return tick(app, now) if leader else None


def summary(result: dict[str, int] | None) -> str:
    if result is None:
        return "Skipped: another host is running the scheduled work right now."
    return ", ".join(f"{key}: {value}" for key, value in result.items())

