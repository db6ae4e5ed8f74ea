"""`flask conversations smtp`: run the built-in SMTP receiver for customers' email replies."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup

conversations = AppGroup("conversations", help="Customer conversations: the inbound mail "
                         "receiver.")


@conversations.command("smtp")
@click.option("--host", default=None, help="Address to listen on (INBOUND_SMTP_HOST).")
@click.option("--port", default=None, type=int, help="Port to listen on (INBOUND_SMTP_PORT).")
def smtp(host: str | None, port: int | None) -> None:
    """Receive replies to the signed reply addresses by SMTP until stopped."""
    from returns_service.conversations.smtp_receiver import start

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("REPLY_DOMAIN"):
        # Idle rather than exit: a process manager (honcho, systemd) would otherwise stop
        # or restart the whole deployment over a feature that is simply not set up.
        click.echo("REPLY_DOMAIN is not set: no reply address exists, nothing to receive. "
                   "Idling until stopped.", err=True)
        _wait_forever()
        return
    host = host or app.config["INBOUND_SMTP_HOST"]
    port = port if port is not None else int(app.config["INBOUND_SMTP_PORT"])
    controller = start(app, host, port)
    click.echo(f"Receiving replies for @{app.config['REPLY_DOMAIN']} on {host}:{port}.")
    try:
        _wait_forever()
    finally:
        controller.stop()


def _wait_forever() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
