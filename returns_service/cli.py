"""`flask` commands: staff users and tokens, the workflow graph, demo data, jobs."""

from __future__ import annotations

import secrets

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from returns_service.common import sealed
from returns_service.common.errors import ValidationFailed
from returns_service.common.loop import run_every
from returns_service.db import db
from returns_service.demo import seed
from returns_service.demo.history import seed_history
from returns_service.integrations.endpoints import reseal_secrets
from returns_service.notifications.mailer import keep_connections_open
from returns_service.outbox.relay import relay_pending
from returns_service.staff import services as staff
from returns_service.staff.models import ROLES, StaffUser
from returns_service.worker import SimpleWorker, Worker, set_app
from workflows import MACHINES

users = AppGroup("users", help="Manage staff users.")
tokens = AppGroup("tokens", help="Manage API tokens for machine clients and scripts.")
workflow = AppGroup("workflow", help="Inspect the state machines (workflows/).")
outbox = AppGroup("outbox", help="Background work waiting to be delivered.")
demo = AppGroup("demo", help="Demo data for a first look.")
secrets_group = AppGroup("secrets", help="The keys that seal stored secrets (ENCRYPTION_KEYS).")


def _fail_on(exc: ValidationFailed) -> None:
    messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
    raise click.ClickException(messages)


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="")
@click.option("--password", default=None, help="Omit to generate one (printed once).")
def users_create(email: str, role: str, name: str, password: str | None) -> None:
    """Create a staff user who can sign in to the console."""
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        user = staff.create_user(email, role, password, name)
    except ValidationFailed as exc:
        _fail_on(exc)
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role}).")
    if generated:
        click.echo(f"Password: {password}")


@users.command("list")
def users_list() -> None:
    for user in db.session.scalars(select(StaffUser).order_by(StaffUser.email)):
        click.echo(f"{user.email}\t{user.role}\t{'active' if user.active else 'disabled'}")


@users.command("set-password")
@click.argument("email")
@click.password_option()
def users_set_password(email: str, password: str) -> None:
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == email.lower()))
    if user is None:
        raise click.ClickException(f"No staff user {email}.")
    try:
        revoked = staff.set_password(user, password)
    except ValidationFailed as exc:
        _fail_on(exc)
    db.session.commit()
    click.echo("Password changed; console sessions ended"
               + (f", {revoked} API token(s) revoked." if revoked else "."))


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="cli", help="What the token is for.")
@click.option("--expires-in-days", type=click.IntRange(min=1), default=None,
              help="The token stops working this many days from now (default: never).")
def tokens_create(email: str, name: str, expires_in_days: int | None) -> None:
    """Mint an API token for a staff user (printed once; only its hash is stored)."""
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == email.lower()))
    if user is None:
        raise click.ClickException(f"No staff user {email}. Create one with `flask users create`.")
    if not user.active:
        raise click.ClickException(f"{user.email} is disabled.")
    token = staff.mint_token(user, name, expires_in_days=expires_in_days)
    db.session.commit()
    click.echo(token)


@tokens.command("revoke")
@click.argument("prefix")
def tokens_revoke(prefix: str) -> None:
    """Revoke tokens by their first 12 characters."""
    count = staff.revoke_token(prefix)
    db.session.commit()
    click.echo(f"Revoked {count} token(s).")


@workflow.command("graph")
@click.argument("name", default="returns", type=click.Choice(sorted(MACHINES)))
def workflow_graph(name: str) -> None:
    """Print a state machine (default: the return's) as a Mermaid diagram."""
    click.echo(MACHINES[name].mermaid())


@outbox.command("relay")
@click.option("--every", type=int, default=0, help="Repeat every N seconds (0: once).")
def outbox_relay(every: int) -> None:
    """Deliver outbox messages left behind (Redis was down, a worker died)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_every(every, lambda: f"Relayed {relay_pending(app)} message(s).")


@demo.command("seed")
@click.option("--history/--no-history", default=None,
              help="Also seed 90 days of returns, ratings and NPS answers (once; a second "
                   "run adds nothing). Default: on when DEMO_MODE is set.")
def demo_seed(history: bool | None) -> None:
    """Create demo orders and staff (safe to run again) and print how to sign in."""
    for line in seed():
        click.echo(line)
    if history if history is not None else current_app.config.get("DEMO_MODE"):
        click.echo(seed_history())


@secrets_group.command("new-key")
def new_key_command() -> None:
    """Print a new key for ENCRYPTION_KEYS."""
    click.echo(sealed.new_key())


@secrets_group.command("reseal")
def reseal_command() -> None:
    """Seal every stored secret again with the first of ENCRYPTION_KEYS."""
    try:
        count = reseal_secrets()
    except sealed.SecretUnreadable as exc:
        db.session.rollback()
        raise click.ClickException(f"Nothing changed. {exc}") from None
    click.echo(f"Sealed again with the first key: the secrets of {count} webhook "
               "endpoint(s). Keys no longer needed can now be dropped from ENCRYPTION_KEYS.")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--with-scheduler/--without-scheduler", default=True)
@click.option("--fork/--no-fork", default=False, show_default=True,
              help="Run each job in a forked child (rq's Worker) instead of in the worker "
                   "process itself (rq's SimpleWorker, which keeps the app and its "
                   "database pool warm between jobs).")
def worker_command(burst: bool, with_scheduler: bool, fork: bool) -> None:
    """Run an RQ worker with this app's configuration."""

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    queue = app.extensions.get("rq_queue")
    if queue is None:
        raise click.ClickException("REDIS_URL is not set: jobs already run in-process.")
    set_app(app)
    db.engine.dispose()  # no pooled connection crosses into forked work horses
    worker_class = Worker if fork else SimpleWorker
    keep_connections_open(not fork)  # a forked work horse would drop it after every job
    # rq logs every job at INFO unless told otherwise: it follows LOG_LEVEL like the app.
    worker_class([queue], connection=queue.connection).work(
        burst=burst, with_scheduler=with_scheduler,
        logging_level=str(app.config["LOG_LEVEL"]).upper())


def init_app(app: Flask) -> None:
    """Add the service's commands: users, tokens, workflow, outbox, demo, secrets, worker."""
    for group in (users, tokens, workflow, outbox, demo, secrets_group):
        app.cli.add_command(group)
    app.cli.add_command(worker_command)
