"""`flask notify …`: the scheduled tick and a look at notifications waiting to go out."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from returns_service.extensions import db
from returns_service.loop import run_every
from returns_service.notifications.models import Notification

notify = AppGroup("notify", help="Customer emails and scheduled work (reminders, expiry…).")


@notify.command("tick")
@click.option("--every", type=int, default=0, help="Repeat every N seconds (0: run once).")
def tick_command(every: int) -> None:
    """Expire, remind, escalate and re-queue stuck emails and outbox messages."""
    from returns_service.notifications.schedule import tick

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_every(every, lambda: ", ".join(f"{key}: {value}" for key, value in tick(app).items()))


@notify.command("status")
def status_command() -> None:
    """How many notifications are pending, sending, sent or failed."""
    rows = db.session.execute(select(Notification.status, func.count())
                              .group_by(Notification.status).order_by(Notification.status))
    for status, count in rows:
        click.echo(f"{status}\t{count}")
