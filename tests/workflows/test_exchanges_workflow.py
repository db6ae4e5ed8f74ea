"""The exchange state machine: every allowed and every forbidden transition."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from workflows import MACHINES
from workflows import exchanges as wf
from workflows.exchanges import InvalidTransition, fire

# Written out by hand, so a change to the workflow shows here.
ALLOWED: dict[tuple[str, str], str] = {
    ("requested", "ask_payment"): "awaiting_payment",
    ("awaiting_payment", "pay"): "requested",
    ("requested", "expire"): "expired",
    ("awaiting_payment", "expire"): "expired",
    ("requested", "order"): "ordered",
    ("ordered", "ship"): "shipped",
    ("requested", "cancel"): "cancelled",
    ("awaiting_payment", "cancel"): "cancelled",
    ("shipped", "charge_for_missing_item"): "charged_for_missing_item",
}
STATUSES = ["requested", "awaiting_payment", "ordered", "shipped", "cancelled", "expired",
            "charged_for_missing_item"]
TRIGGERS = ["ask_payment", "pay", "expire", "order", "ship", "cancel",
            "charge_for_missing_item"]


def test_the_table_covers_every_status_and_trigger() -> None:
    assert {s.value for s in wf.Status} == set(STATUSES)
    assert set(wf.TRIGGERS) == set(TRIGGERS)
    assert MACHINES["exchanges"] is wf


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


def test_terminal_statuses_have_no_way_out_but_the_missing_item_charge() -> None:
    for status in wf.TERMINAL:
        expected = ["charge_for_missing_item"] if status == "shipped" else []
        assert wf.allowed_triggers(status) == expected


def test_the_diagram_shows_every_transition() -> None:
    diagram = wf.mermaid()
    for (source, trigger), dest in ALLOWED.items():
        assert f"{source} --> {dest}: {trigger}" in diagram
