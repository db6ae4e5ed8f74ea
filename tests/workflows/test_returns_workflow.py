"""The return state machine: every allowed and every forbidden transition, pinned as a table."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from workflows import returns as wf
from workflows.returns import Actor, InvalidTransition, Status, fire

# Written out by hand (not derived from workflows.returns) so a change to the workflow shows here.
ALLOWED: dict[tuple[str, str], str] = {
    ("requested", "approve"): "approved",
    ("requested", "reject"): "rejected",
    ("requested", "cancel"): "cancelled",
    ("approved", "cancel"): "cancelled",
    ("approved", "expire"): "expired",
    ("approved", "receive"): "received",
    ("approved", "refund_on_first_scan"): "refund_pending",
    ("received", "start_refund"): "refund_pending",
    ("received", "close"): "closed",
    ("approved", "close"): "closed",
    ("received", "issue_credit"): "credited",
    ("approved", "refund_kept_item"): "refund_pending",
    ("approved", "credit_kept_item"): "credited",
    ("credited", "convert_credit_to_refund"): "refund_pending",
    ("received", "record_manual_refund"): "refunded",
    ("refund_pending", "refund_succeeded"): "refunded",
    ("refund_pending", "refund_failed"): "refund_failed",
    ("refund_failed", "retry_refund"): "refund_pending",
    ("refund_failed", "refund_succeeded"): "refunded",
    ("refund_failed", "record_manual_refund"): "refunded",
}
STATUSES = [s.value for s in Status]
TRIGGERS = ["approve", "reject", "cancel", "expire", "receive", "refund_on_first_scan",
            "start_refund", "close", "issue_credit", "refund_kept_item", "credit_kept_item",
            "convert_credit_to_refund", "refund_succeeded", "refund_failed", "retry_refund",
            "record_manual_refund"]
ACTOR = Actor("staff", 7, "agent@shop.test")


def a_return(status: str) -> SimpleNamespace:
    """Stands in for a Return row: the machine only reads/writes status and records events."""
    events: list[SimpleNamespace] = []

    def record_event(**fields: object) -> SimpleNamespace:
        events.append(SimpleNamespace(**fields))
        return events[-1]

    return SimpleNamespace(status=status, status_changed_at=None, events=events,
                           record_event=record_event)


def test_the_table_covers_every_status_and_trigger_of_the_workflow() -> None:
    assert set(STATUSES) == {"requested", "approved", "rejected", "cancelled", "expired",
                             "received", "closed", "refund_pending", "refunded", "refund_failed",
                             "credited"}
    assert set(TRIGGERS) == set(wf.TRIGGERS)


@pytest.mark.parametrize(("source", "trigger"), sorted(ALLOWED))
def test_allowed_transition_moves_the_status_and_writes_one_audit_event(
        source: str, trigger: str) -> None:
    row = a_return(source)
    fire(row, trigger, ACTOR, note="checked", reason="used" if trigger == "reject" else None)
    assert row.status == ALLOWED[(source, trigger)]
    event, *remark = row.events
    assert (event.from_status, event.to_status, event.trigger) == (source, row.status, trigger)
    assert (event.actor_type, event.actor_id, event.actor_label) == ("staff", 7, "agent@shop.test")
    assert event.customer_visible is True and row.status_changed_at == event.created_at
    if trigger in wf.CUSTOMER_NOTE_TRIGGERS:  # written to the customer: on the change itself
        assert event.note == "checked" and remark == []
    else:  # a remark for staff: kept beside the change, where customers do not see it
        [note] = remark
        assert event.note is None
        assert (note.kind, note.note, note.customer_visible, note.trigger, note.actor_label) == (
            "note", "checked", False, trigger, "agent@shop.test")


FORBIDDEN = [(s, t) for s in STATUSES for t in TRIGGERS if (s, t) not in ALLOWED]


@pytest.mark.parametrize(("source", "trigger"), FORBIDDEN)
def test_forbidden_transition_raises_and_changes_nothing(source: str, trigger: str) -> None:
    row = a_return(source)
    with pytest.raises(InvalidTransition) as info:
        fire(row, trigger, ACTOR, reason="used")
    assert row.status == source
    assert row.events == []
    assert info.value.current == source
    assert info.value.allowed == [t for t in TRIGGERS if (source, t) in ALLOWED]


def test_unknown_trigger_is_an_invalid_transition() -> None:
    with pytest.raises(InvalidTransition):
        fire(a_return("requested"), "teleport", ACTOR)


def test_reject_needs_a_reason() -> None:
    row = a_return("requested")
    with pytest.raises(InvalidTransition, match="needs a reason"):
        fire(row, "reject", ACTOR)
    assert row.status == "requested" and row.events == []


def test_terminal_statuses_allow_nothing() -> None:
    for status in ("rejected", "cancelled", "expired", "closed", "refunded"):
        assert wf.allowed_triggers(status) == []


def test_one_shared_machine_keeps_no_row_attached_after_a_transition() -> None:
    attached = len(wf._machine.models)
    rows = [a_return("requested") for _ in range(50)]
    for row in rows:
        fire(row, "approve", ACTOR)
    assert all(r.status == "approved" for r in rows)
    # Rows are attached for one trigger only: the machine's subjects are reused, one after
    # the other here, and none holds a row once its trigger has fired (or failed).
    with pytest.raises(InvalidTransition):
        fire(rows[0], "approve", ACTOR)
    assert len(wf._machine.models) == max(attached, 1)
    assert all(subject.row is None for subject in wf._machine.models)


def test_attaching_a_loaded_row_never_resets_its_status() -> None:
    """add_model(initial=…) must not overwrite what the database said."""
    row = a_return("refund_failed")
    fire(row, "retry_refund", ACTOR)
    assert row.status == "refund_pending"
    assert [e.from_status for e in row.events] == ["refund_failed"]


def test_mermaid_graph_lists_every_transition() -> None:
    graph = wf.mermaid()
    assert graph.startswith("stateDiagram-v2")
    for (source, trigger), dest in ALLOWED.items():
        assert f"{source} --> {dest}: {trigger}" in graph
