"""`flask scheduler run|tick`: the scheduled work as a long-running process or one pass."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from returns_service.common.loop import run_every
from returns_service.scheduler.schedule import summary, tick_if_leader

scheduler = AppGroup("scheduler", help="Scheduled work: expiry, reminders, digests, retries.")


@scheduler.command("run")
@click.option("--every", type=int, default=300, show_default=True,
              help="Seconds between passes.")
def run_command(every: int) -> None:
    """Run every periodic job now and then every N seconds, for as long as the process lives
    (one host runs a given pass on PostgreSQL; the others skip it)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_every(max(every, 1), lambda: summary(tick_if_leader(app)))


@scheduler.command("tick")
def tick_command() -> None:
    """Run every periodic job once (for cron)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_every(0, lambda: summary(tick_if_leader(app)))
