"""The webhook delivery state machine: one event on its way to one endpoint, declared as data.

A delivery waits (`pending`) until a receiver accepts it (`delivered`) or the service gives up
(`failed`: 410 Gone, retried past WEBHOOK_RETRY_HOURS, or its endpoint was disabled). A resend
puts a delivered or failed event back in the queue. Attempts and their outcomes are columns of
the row, not states: a retry stays `pending`.
"""

from __future__ import annotations

import threading
from enum import StrEnum
from typing import Any

from transitions import Machine, MachineError


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
TRIGGERS: tuple[str, ...] = tuple(dict.fromkeys(t["trigger"] for t in TRANSITIONS))


class InvalidTransition(Exception):
    """The trigger is not allowed from the delivery's current status."""

    def __init__(self, trigger: str, current: str, allowed: list[str]):
        self.trigger, self.current, self.allowed = trigger, current, allowed
        super().__init__(f"cannot {trigger} a webhook delivery that is {current}")


def _as_list(source: Any) -> list[Status]:
    return source if isinstance(source, list) else [source]


class _Subject:
    def __init__(self, row: Any):
        self.row = row

    @property
    def status(self) -> str:
        return self.row.status

    @status.setter
    def status(self, value: str) -> None:
        if self.row.status != value:
            self.row.status = str(value)


_machine = Machine(
    model=None, states=[s.value for s in Status],
    transitions=[{**t, "source": [str(s) for s in _as_list(t["source"])],
                  "dest": str(t["dest"])} for t in TRANSITIONS],
    initial=None, auto_transitions=False, model_attribute="status")
_lock = threading.Lock()


def allowed_triggers(status: str) -> list[str]:
    return [t for t in TRIGGERS if _machine.events[t].transitions.get(str(status))]


def can_fire(status: str, trigger: str) -> bool:
    return trigger in allowed_triggers(status)


def fire(row: Any, trigger: str) -> None:
    """Move `row` (a WebhookDelivery) through `trigger`; InvalidTransition when not allowed."""
    current = str(row.status)
    if trigger not in TRIGGERS or not can_fire(current, trigger):
        raise InvalidTransition(trigger, current, allowed_triggers(current))
    subject = _Subject(row)
    with _lock:
        _machine.add_model(subject, initial=current)
    try:
        getattr(subject, trigger)()
    except MachineError as exc:
        raise InvalidTransition(trigger, current, allowed_triggers(current)) from exc
    finally:
        with _lock:
            _machine.remove_model(subject)


def mermaid() -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {Status.PENDING.value}"]
    for t in TRANSITIONS:
        lines += [f"    {s.value} --> {t['dest'].value}: {t['trigger']}"
                  for s in _as_list(t["source"])]
    return "\n".join(lines)
