"""The return state machine: statuses, triggers and guards as one table, built once.

A Machine is expensive (~60 KB), so one instance serves every return. The machine sees a
return through a `_Subject`, which reads and writes the row's own status; attaching one to
the machine (its trigger methods, its state checks) costs more than a transition, so
subjects are attached once and kept in a pool: a trigger takes one, points it at its row,
fires, and gives it back. Callbacks only
change the row and append an audit event; network calls and enqueues belong to services.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from transitions import EventData, Machine, MachineError

from returns_service.common.clock import utcnow


class Status(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    RECEIVED = "received"
    CLOSED = "closed"  # received, but nothing refundable (wrong item, missing…)
    REFUND_PENDING = "refund_pending"
    REFUNDED = "refunded"
    REFUND_FAILED = "refund_failed"
    CREDITED = "credited"  # made whole with store credit instead of money back


# Statuses in which nothing more will happen to the return.
TERMINAL = frozenset({Status.REJECTED, Status.CANCELLED, Status.EXPIRED, Status.CLOSED,
                      Status.REFUNDED, Status.CREDITED})
# Statuses whose items no longer count against what an order line can still return.
RELEASED = frozenset({Status.REJECTED, Status.CANCELLED, Status.EXPIRED})


def _has_reason(event: EventData) -> bool:
    return bool(event.kwargs.get("reason"))


# The whole workflow. Each row: trigger, from (one or many), to, guards, what it means.
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "approve", "source": Status.REQUESTED, "dest": Status.APPROVED},
    {"trigger": "reject", "source": Status.REQUESTED, "dest": Status.REJECTED,
     "conditions": [_has_reason]},
    {"trigger": "cancel", "source": [Status.REQUESTED, Status.APPROVED], "dest": Status.CANCELLED},
    {"trigger": "expire", "source": Status.APPROVED, "dest": Status.EXPIRED},
    {"trigger": "receive", "source": Status.APPROVED, "dest": Status.RECEIVED},
    # Policy "refund on first scan": the carrier's first scan of the return label starts the
    # refund; the warehouse's receipt then only records condition and restock.
    {"trigger": "refund_on_first_scan", "source": Status.APPROVED, "dest": Status.REFUND_PENDING},
    {"trigger": "start_refund", "source": Status.RECEIVED, "dest": Status.REFUND_PENDING},
    # Nothing qualifies: what arrived, or (keep-the-item) what is kept once adjusted.
    {"trigger": "close", "source": [Status.RECEIVED, Status.APPROVED], "dest": Status.CLOSED},
    # Store credit instead of a refund, issued in the same transaction as this change.
    {"trigger": "issue_credit", "source": Status.RECEIVED, "dest": Status.CREDITED},
    # Keep-the-item returns are resolved at approval, without a parcel.
    {"trigger": "refund_kept_item", "source": Status.APPROVED, "dest": Status.REFUND_PENDING},
    {"trigger": "credit_kept_item", "source": Status.APPROVED, "dest": Status.CREDITED},
    # An admin turns what is left of the credit back into money (when the policy allows).
    {"trigger": "convert_credit_to_refund", "source": Status.CREDITED,
     "dest": Status.REFUND_PENDING},
    {"trigger": "refund_succeeded", "source": [Status.REFUND_PENDING, Status.REFUND_FAILED],
     "dest": Status.REFUNDED},
    {"trigger": "refund_failed", "source": Status.REFUND_PENDING, "dest": Status.REFUND_FAILED},
    {"trigger": "retry_refund", "source": Status.REFUND_FAILED, "dest": Status.REFUND_PENDING},
    {"trigger": "record_manual_refund", "source": [Status.REFUND_FAILED, Status.RECEIVED],
     "dest": Status.REFUNDED},
]

TRIGGERS: tuple[str, ...] = tuple(dict.fromkeys(t["trigger"] for t in TRANSITIONS))

# Triggers whose note is written to the customer (their email and status page show it). A
# note on any other trigger (a warehouse remark on a parcel, a refund retried) is for staff.
CUSTOMER_NOTE_TRIGGERS = frozenset({"approve", "reject", "cancel"})


@dataclass(frozen=True)
class Actor:
    """Who caused a change: customer, staff (with user id), system or stripe."""

    type: str
    id: int | None = None
    label: str | None = None

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls("system", None, label)


class InvalidTransition(Exception):
    """The trigger is not allowed from the return's current status (or a guard said no)."""

    def __init__(self, trigger: str, current: str, allowed: list[str], why: str | None = None):
        self.trigger, self.current, self.allowed = trigger, current, allowed
        super().__init__(why or f"cannot {trigger} a return that is {current}")


class _Subject:
    """What the machine sees for one unit of work: the row's status, plus who acts."""

    def __init__(self, row: Any):
        self.row = row
        self.recorded: Any = None  # the audit event of the transition, once fired

    @property
    def status(self) -> str:
        return self.row.status

    @status.setter
    def status(self, value: str) -> None:
        if self.row.status != value:  # add_model(initial=…) must never touch a loaded status
            self.row.status = str(value)


def _record_change(event: EventData) -> None:
    """After every transition: stamp the row and append one audit event."""
    row = event.model.row
    actor: Actor = event.kwargs["actor"]
    trigger, note = event.event.name, event.kwargs.get("note")
    for_customer = trigger in CUSTOMER_NOTE_TRIGGERS
    now = utcnow()
    row.status_changed_at = now
    who = {"trigger": trigger, "actor_type": actor.type, "actor_id": actor.id,
           "actor_label": actor.label, "created_at": now}
    event.model.recorded = row.record_event(
        kind="status", from_status=str(event.transition.source),
        to_status=str(event.transition.dest), note=note if for_customer else None,
        data=event.kwargs.get("data"), customer_visible=True, **who)
    if note and not for_customer:  # the change is the customer's to see; the remark is not
        row.record_event(kind="note", note=note, customer_visible=False, **who)


def _as_list(source: Any) -> list[Status]:
    return source if isinstance(source, list) else [source]


_machine = Machine(
    model=None,
    states=[s.value for s in Status],
    transitions=[
        {**t, "source": [str(s) for s in _as_list(t["source"])], "dest": str(t["dest"])}
        for t in TRANSITIONS
    ],
    initial=None,
    auto_transitions=False,
    send_event=True,
    model_attribute="status",
    after_state_change=[_record_change],
)
_lock = threading.Lock()  # add_model mutates the shared machine's model list
# Subjects attached to the machine and free for the next trigger: at most as many as
# triggers ever fired at once (list.pop and list.append are atomic).
_idle: list[_Subject] = []


def allowed_triggers(status: str) -> list[str]:
    """Triggers that may fire from `status`, in declaration order."""
    return [t for t in TRIGGERS if _machine.events[t].transitions.get(str(status))]


def can_fire(status: str, trigger: str) -> bool:
    return trigger in allowed_triggers(status)


def fire(row: Any, trigger: str, actor: Actor, *, note: str | None = None,
         reason: str | None = None, data: dict[str, Any] | None = None) -> Any:
    """Move `row` (a Return) through `trigger`; raise InvalidTransition when not allowed.
    Returns the audit event the transition recorded."""
    current = str(row.status)
    if trigger not in TRIGGERS or not can_fire(current, trigger):
        raise InvalidTransition(trigger, current, allowed_triggers(current))
    subject = _take_subject(row)
    try:
        try:
            moved = getattr(subject, trigger)(actor=actor, note=note, reason=reason, data=data)
        except MachineError as exc:  # raced with another trigger on the same object
            raise InvalidTransition(trigger, current, allowed_triggers(current)) from exc
        recorded = subject.recorded
    finally:
        subject.row = subject.recorded = None
        _idle.append(subject)
    if not moved:
        raise InvalidTransition(trigger, current, allowed_triggers(current),
                                why=f"{trigger} needs a reason")
    return recorded


def _take_subject(row: Any) -> _Subject:
    """An idle subject pointed at `row`, or a new one attached to the machine for it (its
    state is the row's status: attaching it changes nothing on the row)."""
    try:
        subject = _idle.pop()
    except IndexError:
        subject = _Subject(row)
        with _lock:
            _machine.add_model(subject, initial=str(row.status))
        return subject
    subject.row = row
    return subject


def mermaid() -> str:
    """The workflow as a Mermaid state diagram (for the README and `flask workflow graph`)."""
    lines = ["stateDiagram-v2", f"    [*] --> {Status.REQUESTED.value}"]
    for t in TRANSITIONS:
        sources = _as_list(t["source"])
        guard = " [reason]" if t.get("conditions") else ""
        lines += [f"    {s.value} --> {t['dest'].value}: {t['trigger']}{guard}" for s in sources]
    lines += [f"    {s.value} --> [*]" for s in Status if s in TERMINAL]
    return "\n".join(lines)
