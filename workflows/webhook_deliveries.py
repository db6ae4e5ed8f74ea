"""The webhook delivery state machine: one event on its way to one endpoint, declared as data.

A delivery waits (`pending`) until a receiver accepts it (`delivered`) or the service gives up
(`failed`: 410 Gone, retried past WEBHOOK_RETRY_HOURS, or its endpoint was disabled). A resend
puts a delivered or failed event back in the queue. Attempts and their outcomes are columns of
the row, not states: a retry stays `pending`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from workflows.row_machine import RowMachine


class Status(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


TERMINAL = frozenset({Status.DELIVERED, Status.FAILED})  # until someone resends

TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "deliver", "source": Status.PENDING, "dest": Status.DELIVERED},
    {"trigger": "fail", "source": Status.PENDING, "dest": Status.FAILED},
    {"trigger": "resend", "source": [Status.DELIVERED, Status.FAILED], "dest": Status.PENDING},
]


class InvalidTransition(Exception):
    """The trigger is not allowed from the delivery's current status."""

    def __init__(self, trigger: str, current: str, allowed: list[str]):
        self.trigger, self.current, self.allowed = trigger, current, allowed
        super().__init__(f"cannot {trigger} a webhook delivery that is {current}")


_machine = RowMachine(Status, TRANSITIONS, initial=Status.PENDING, error=InvalidTransition)
TRIGGERS = _machine.triggers
allowed_triggers, can_fire, fire, mermaid = (
    _machine.allowed_triggers, _machine.can_fire, _machine.fire, _machine.mermaid)
