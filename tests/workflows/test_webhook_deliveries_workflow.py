"""The webhook delivery state machine: every allowed and every forbidden transition."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from workflows import MACHINES
from workflows import webhook_deliveries as wf
from workflows.webhook_deliveries import InvalidTransition, fire

# Written out by hand, so a change to the workflow shows here.
ALLOWED: dict[tuple[str, str], str] = {
    ("pending", "deliver"): "delivered",
    ("pending", "fail"): "failed",
    ("delivered", "resend"): "pending",
    ("failed", "resend"): "pending",
}
STATUSES = ["pending", "delivered", "failed"]
TRIGGERS = ["deliver", "fail", "resend"]


def test_the_table_covers_every_status_and_trigger() -> None:
    assert {s.value for s in wf.Status} == set(STATUSES)
    assert set(wf.TRIGGERS) == set(TRIGGERS)
    assert MACHINES["webhook_deliveries"] is wf


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("trigger", TRIGGERS)
def test_each_move_is_allowed_or_refused_as_the_table_says(status: str, trigger: str) -> None:
    row = SimpleNamespace(status=status)
    expected = ALLOWED.get((status, trigger))
    if expected is None:
        with pytest.raises(InvalidTransition):
            fire(row, trigger)
        assert row.status == status
    else:
        fire(row, trigger)
        assert row.status == expected


def test_the_diagram_shows_every_transition() -> None:
    diagram = wf.mermaid()
    for (source, trigger), dest in ALLOWED.items():
        assert f"{source} --> {dest}: {trigger}" in diagram
