"""The shipment state machine: a return parcel from its label to the warehouse's door.

Declared as data like the return workflow. A shipment is created `label_pending` when its
return is approved (EasyPost provider); the label job moves it to `label_ready` (or
`label_failed`, which staff may retry), carrier tracking moves it on. Tracking never moves a
shipment backwards: an out-of-order or repeated event finds no transition and is ignored
by the caller (`shipping.tracking`), it is not an error. Callbacks only stamp the row; calls
to EasyPost belong to services.
"""

from __future__ import annotations

import threading
from enum import StrEnum
from typing import Any

from transitions import EventData, Machine, MachineError

from returns_service.common.clock import utcnow


class ShipmentStatus(StrEnum):
    LABEL_PENDING = "label_pending"
    LABEL_READY = "label_ready"
    LABEL_FAILED = "label_failed"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    RETURNED_TO_SENDER = "returned_to_sender"
    LOST = "lost"
    VOIDED = "voided"  # the return was cancelled or expired: an unused label is refunded


S = ShipmentStatus
# Where the parcel may still be on its way to us (the warehouse's Incoming list).
INCOMING = frozenset({S.LABEL_READY, S.IN_TRANSIT})
# Nothing more will happen to the shipment.
FINAL = frozenset({S.DELIVERED, S.RETURNED_TO_SENDER, S.LOST, S.VOIDED})

# Each row: trigger, from (one or many), to.
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "label_bought", "source": [S.LABEL_PENDING, S.LABEL_FAILED],
     "dest": S.LABEL_READY},
    {"trigger": "label_failed", "source": S.LABEL_PENDING, "dest": S.LABEL_FAILED},
    {"trigger": "retry_label", "source": S.LABEL_FAILED, "dest": S.LABEL_PENDING},
    {"trigger": "first_scan", "source": S.LABEL_READY, "dest": S.IN_TRANSIT},
    {"trigger": "delivered", "source": [S.LABEL_READY, S.IN_TRANSIT], "dest": S.DELIVERED},
    {"trigger": "returned_to_sender", "source": [S.LABEL_READY, S.IN_TRANSIT],
     "dest": S.RETURNED_TO_SENDER},
    {"trigger": "lost", "source": [S.LABEL_READY, S.IN_TRANSIT], "dest": S.LOST},
    {"trigger": "void", "source": [S.LABEL_PENDING, S.LABEL_READY, S.LABEL_FAILED],
     "dest": S.VOIDED},
]

TRIGGERS: tuple[str, ...] = tuple(dict.fromkeys(t["trigger"] for t in TRANSITIONS))


class InvalidShipmentTransition(Exception):
    def __init__(self, trigger: str, current: str):
        self.trigger, self.current = trigger, current
        super().__init__(f"cannot {trigger} a shipment that is {current}")


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


def _stamp(event: EventData) -> None:
    event.model.row.status_changed_at = utcnow()


def _as_list(source: Any) -> list[ShipmentStatus]:
    return source if isinstance(source, list) else [source]


_machine = Machine(
    model=None, states=[s.value for s in ShipmentStatus],
    transitions=[{**t, "source": [str(s) for s in _as_list(t["source"])],
                  "dest": str(t["dest"])} for t in TRANSITIONS],
    initial=None, auto_transitions=False, send_event=True, model_attribute="status",
    after_state_change=[_stamp])
_lock = threading.Lock()


def allowed_triggers(status: str) -> list[str]:
    return [t for t in TRIGGERS if _machine.events[t].transitions.get(str(status))]


def can_fire(status: str, trigger: str) -> bool:
    return trigger in allowed_triggers(status)


def fire(row: Any, trigger: str) -> str:
    """Move `row` (a Shipment) through `trigger`; its new status. InvalidShipmentTransition
    when the trigger is not allowed from where it is."""
    current = str(row.status)
    if trigger not in TRIGGERS or not can_fire(current, trigger):
        raise InvalidShipmentTransition(trigger, current)
    subject = _Subject(row)
    with _lock:
        _machine.add_model(subject, initial=current)
    try:
        getattr(subject, trigger)()
    except MachineError as exc:
        raise InvalidShipmentTransition(trigger, current) from exc
    finally:
        with _lock:
            _machine.remove_model(subject)
    return row.status
