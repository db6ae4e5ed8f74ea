"""`flask notify …`: a look at notifications waiting to go out; `notify tick` is the old name
of `flask scheduler tick` (kept for one release)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from returns_service.common.loop import run_every
from returns_service.db import db
from returns_service.notifications.models import Notification
from returns_service.scheduler.schedule import summary, tick_if_leader

notify = AppGroup("notify", help="Customer emails and scheduled work (reminders, expiry…).")


@notify.command("tick")
@click.option("--every", type=int, default=0, help="Repeat every N seconds (0: run once).")
def tick_command(every: int) -> None:
    """Deprecated: use `flask scheduler tick` (or `flask scheduler run`)."""
    click.echo("`flask notify tick` is now `flask scheduler tick` / `flask scheduler run "
               "--every N`; this name goes in the next release.", err=True)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_every(every, lambda: summary(tick_if_leader(app)))


@notify.command("status")
def status_command() -> None:
    """How many notifications are pending, sending, sent or failed."""
    rows = db.session.execute(select(Notification.status, func.count())
                              .group_by(Notification.status).order_by(Notification.status))
    for status, count in rows:
        click.echo(f"{status}\t{count}")
