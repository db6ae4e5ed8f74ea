"""The shipment state machine: a return parcel from its label to the warehouse's door.

Declared as data like the return workflow. A shipment is created `label_pending` when its
return is approved (EasyPost provider); the label job moves it to `label_ready` (or
`label_failed`, which staff may retry), carrier tracking moves it on. Tracking never moves a
shipment backwards: an out-of-order or repeated event finds no transition and is ignored
by the caller (`shipping.tracking`), it is not an error. Callbacks only stamp the row; calls
to EasyPost belong to services.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from returns_service.common.clock import utcnow
from workflows.row_machine import RowMachine


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


class InvalidShipmentTransition(Exception):
    def __init__(self, trigger: str, current: str, allowed: list[str] | None = None):
        self.trigger, self.current, self.allowed = trigger, current, allowed or []
        super().__init__(f"cannot {trigger} a shipment that is {current}")


def _stamp(row: Any) -> None:
    row.status_changed_at = utcnow()


_machine = RowMachine(ShipmentStatus, TRANSITIONS, initial=ShipmentStatus.LABEL_PENDING,
                      error=InvalidShipmentTransition, after=_stamp)
TRIGGERS = _machine.triggers
allowed_triggers, can_fire, fire, mermaid = (
    _machine.allowed_triggers, _machine.can_fire, _machine.fire, _machine.mermaid)
