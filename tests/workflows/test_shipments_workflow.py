"""The shipment state machine: every allowed and every forbidden transition, as a table."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from workflows import shipments as wf
from workflows.shipments import InvalidShipmentTransition, ShipmentStatus, fire

# Written out by hand (not derived from workflows.shipments) so a change shows here.
ALLOWED: dict[tuple[str, str], str] = {
    ("label_pending", "label_bought"): "label_ready",
    ("label_failed", "label_bought"): "label_ready",
    ("label_pending", "label_failed"): "label_failed",
    ("label_failed", "retry_label"): "label_pending",
    ("label_ready", "first_scan"): "in_transit",
    ("label_ready", "delivered"): "delivered",
    ("in_transit", "delivered"): "delivered",
    ("label_ready", "returned_to_sender"): "returned_to_sender",
    ("in_transit", "returned_to_sender"): "returned_to_sender",
    ("label_ready", "lost"): "lost",
    ("in_transit", "lost"): "lost",
    ("label_pending", "void"): "voided",
    ("label_ready", "void"): "voided",
    ("label_failed", "void"): "voided",
}
STATUSES = [s.value for s in ShipmentStatus]
TRIGGERS = ["label_bought", "label_failed", "retry_label", "first_scan", "delivered",
            "returned_to_sender", "lost", "void"]
FORBIDDEN = [(s, t) for s in STATUSES for t in TRIGGERS if (s, t) not in ALLOWED]


def test_the_table_covers_every_status_and_trigger() -> None:
    assert set(STATUSES) == {"label_pending", "label_ready", "label_failed", "in_transit",
                             "delivered", "returned_to_sender", "lost", "voided"}
    assert set(TRIGGERS) == set(wf.TRIGGERS)


@pytest.mark.parametrize(("source", "trigger"), sorted(ALLOWED))
def test_allowed_transition_moves_the_shipment_and_stamps_it(source: str, trigger: str) -> None:
    row = SimpleNamespace(status=source, status_changed_at=None)
    assert fire(row, trigger) == ALLOWED[(source, trigger)] == row.status
    assert row.status_changed_at is not None


@pytest.mark.parametrize(("source", "trigger"), FORBIDDEN)
def test_forbidden_transition_raises_and_changes_nothing(source: str, trigger: str) -> None:
    row = SimpleNamespace(status=source, status_changed_at=None)
    with pytest.raises(InvalidShipmentTransition):
        fire(row, trigger)
    assert (row.status, row.status_changed_at) == (source, None)


def test_final_statuses_have_no_way_out() -> None:
    for status in wf.FINAL:
        assert wf.allowed_triggers(status) == []
