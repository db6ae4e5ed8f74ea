"""The exchange state machine: one returned line swapped for another variant, declared as data.

An exchange is `requested` with its new item's stock reserved. When the new item costs more it
waits in `awaiting_payment` until the customer's Checkout Session completes (`pay`), or the
session lapses (`expire`). When the original is received the exchange order is created
(`order`), and the store ships it (`ship`). Cancelled, rejected or expired exchanges release
their reservation; `charged_for_missing_item` is the instant exchange whose original never came.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from workflows.row_machine import RowMachine


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


class InvalidTransition(Exception):
    """The trigger is not allowed from the exchange's current status."""

    def __init__(self, trigger: str, current: str, allowed: list[str]):
        self.trigger, self.current, self.allowed = trigger, current, allowed
        super().__init__(f"cannot {trigger} an exchange that is {current}")


_machine = RowMachine(Status, TRANSITIONS, initial=Status.REQUESTED, error=InvalidTransition)
TRIGGERS = _machine.triggers
allowed_triggers, can_fire, fire, mermaid = (
    _machine.allowed_triggers, _machine.can_fire, _machine.fire, _machine.mermaid)
