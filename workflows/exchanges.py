"""The exchange state machine: one returned line swapped for another variant, declared as data.

An exchange is `requested` with its new item's stock reserved. When the new item costs more it
waits in `awaiting_payment` until the customer's Checkout Session completes (`pay`), or the
session lapses (`expire`). When the original is received the exchange order is created
(`order`), and the store ships it (`ship`). Cancelled, rejected or expired exchanges release
their reservation; `charged_for_missing_item` is the instant exchange whose original never came.
"""

from __future__ import annotations

import threading
from enum import StrEnum
from typing import Any

from transitions import Machine, MachineError


class Status(StrEnum):
    REQUESTED = "requested"
    AWAITING_PAYMENT = "awaiting_payment"
    ORDERED = "ordered"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    CHARGED_FOR_MISSING_ITEM = "charged_for_missing_item"


# The stock reservation is held in these statuses and released on leaving them for an end.
HOLDS_STOCK = frozenset({Status.REQUESTED, Status.AWAITING_PAYMENT})
TERMINAL = frozenset({Status.SHIPPED, Status.CANCELLED, Status.EXPIRED,
                      Status.CHARGED_FOR_MISSING_ITEM})

TRANSITIONS: list[dict[str, Any]] = [
    # The new item costs more: the customer pays the difference first.
    {"trigger": "ask_payment", "source": Status.REQUESTED, "dest": Status.AWAITING_PAYMENT},
    {"trigger": "pay", "source": Status.AWAITING_PAYMENT, "dest": Status.REQUESTED},
    # The Checkout Session lapsed unpaid.
    {"trigger": "expire", "source": [Status.REQUESTED, Status.AWAITING_PAYMENT],
     "dest": Status.EXPIRED},
    # The original arrived (or, with instant exchange, the return was approved).
    {"trigger": "order", "source": Status.REQUESTED, "dest": Status.ORDERED},
    {"trigger": "ship", "source": Status.ORDERED, "dest": Status.SHIPPED},
    # The customer, an agent, or the return's rejection or cancellation.
    {"trigger": "cancel", "source": [Status.REQUESTED, Status.AWAITING_PAYMENT],
     "dest": Status.CANCELLED},
    # Instant exchange: shipped before the original arrived, which never did.
    {"trigger": "charge_for_missing_item", "source": Status.SHIPPED,
     "dest": Status.CHARGED_FOR_MISSING_ITEM},
]
TRIGGERS: tuple[str, ...] = tuple(dict.fromkeys(t["trigger"] for t in TRANSITIONS))


class InvalidTransition(Exception):
    """The trigger is not allowed from the exchange's current status."""

    def __init__(self, trigger: str, current: str, allowed: list[str]):
        self.trigger, self.current, self.allowed = trigger, current, allowed
        super().__init__(f"cannot {trigger} an exchange that is {current}")


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
    """Move `row` (an Exchange) through `trigger`; InvalidTransition when not allowed."""
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
    lines = ["stateDiagram-v2", f"    [*] --> {Status.REQUESTED.value}"]
    for t in TRANSITIONS:
        lines += [f"    {s.value} --> {t['dest'].value}: {t['trigger']}"
                  for s in _as_list(t["source"])]
    return "\n".join(lines)
