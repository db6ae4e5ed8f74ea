"""Run a command's step once, or every N seconds for as long as the process lives.

A repeating command (`flask notify tick --every`, `flask outbox relay --every`) must outlive
a database restart or a network blip: a failed pass is logged and the next one runs on time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import click

from returns_service.db import db

log = logging.getLogger(__name__)


def run_every(every: int, step: Callable[[], str]) -> None:
    """Echo `step()`'s summary; with `every` > 0, again every `every` seconds. Run once, a
    failure propagates (the exit code says so); repeating, it is logged and retried."""
    while True:
        if not every:
            click.echo(step())
            return
        try:
            click.echo(step())
        except Exception:
            log.exception("this pass failed; the next one runs in %d s", every)
            db.session.remove()  # drop a connection the failure may have left broken
        time.sleep(every)
