"""The event catalogue in the docs stays complete: every event type the service sends is
described on the Integrations page, and every setting of the area is on it or linked."""

from __future__ import annotations

from pathlib import Path

from returns_service.integrations.events import EVENT_TYPES, TEST_EVENT

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "integrations.md").read_text()


def test_every_event_type_is_documented() -> None:
    missing = [t for t in [*EVENT_TYPES, TEST_EVENT] if f"| `{t}` |" not in PAGE]
    assert missing == []


def test_the_example_payloads_have_the_envelope_receivers_rely_on() -> None:
    for field in ('"type"', '"version": 1', '"sequence"', '"timestamp"', '"data"'):
        assert PAGE.count(field) >= 2, field
