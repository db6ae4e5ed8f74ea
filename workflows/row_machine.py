"""A state machine for aggregates whose whole state is `row.status`: the shipment, the
exchange and the webhook delivery declare their statuses and transitions as data, and this
builds the one `transitions` Machine that serves all their rows.

As for the return workflow, a row is attached only for one trigger, with
`initial=row.status`, and detached straight after; callbacks may only change the row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from transitions import Machine, MachineError

# (trigger, current status, allowed triggers) -> the aggregate's own exception
ErrorFactory = Callable[[str, str, list[str]], Exception]


class _Subject:
    """What the machine sees: the row's status, written only when it changes."""

    def __init__(self, row: Any):
        self.row = row

    @property
    def status(self) -> str:
        return self.row.status

    @status.setter
    def status(self, value: str) -> None:
        if self.row.status != value:  # add_model(initial=…) must never touch a loaded status
            self.row.status = str(value)


def _as_list(source: Any) -> list[Any]:
    return source if isinstance(source, list) else [source]


class RowMachine:
    """`transitions` rows (`trigger`, `source` one or many, `dest`) over the `states` enum;
    `initial` is the status a new row starts in (for the diagram); `error` builds the
    aggregate's exception; `after` runs after every change (e.g. stamp the row)."""

    def __init__(self, states: type[StrEnum], transitions: list[dict[str, Any]], *,
                 initial: StrEnum, error: ErrorFactory,
                 after: Callable[[Any], None] | None = None):
        self.transitions, self.initial, self._error = transitions, initial, error
        self.triggers: tuple[str, ...] = tuple(dict.fromkeys(t["trigger"] for t in transitions))
        self._machine = Machine(
            model=None, states=[s.value for s in states],
            transitions=[{**t, "source": [str(s) for s in _as_list(t["source"])],
                          "dest": str(t["dest"])} for t in transitions],
            initial=None, auto_transitions=False, send_event=True, model_attribute="status",
            after_state_change=[lambda event: after(event.model.row)] if after else [])
        self._lock = threading.Lock()  # add_model/remove_model mutate the model list

    def allowed_triggers(self, status: str) -> list[str]:
        """Triggers that may fire from `status`, in declaration order."""
        return [t for t in self.triggers
                if self._machine.events[t].transitions.get(str(status))]

    def can_fire(self, status: str, trigger: str) -> bool:
        return trigger in self.allowed_triggers(status)

    def fire(self, row: Any, trigger: str) -> str:
        """Move `row` through `trigger` and answer its new status; the aggregate's error
        when the trigger is not allowed from where the row is."""
        current = str(row.status)
        if trigger not in self.triggers or not self.can_fire(current, trigger):
            raise self._error(trigger, current, self.allowed_triggers(current))
        subject = _Subject(row)
        with self._lock:
            self._machine.add_model(subject, initial=current)
        try:
            getattr(subject, trigger)()
        except MachineError as exc:  # raced with another trigger on the same row
            raise self._error(trigger, current, self.allowed_triggers(current)) from exc
        finally:
            with self._lock:
                self._machine.remove_model(subject)
        return str(row.status)

    def mermaid(self) -> str:
        """The machine as a Mermaid state diagram (`flask workflow graph NAME`)."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial.value}"]
        for t in self.transitions:
            lines += [f"    {s.value} --> {t['dest'].value}: {t['trigger']}"
                      for s in _as_list(t["source"])]
        return "\n".join(lines)
