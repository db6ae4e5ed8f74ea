"""The service's notion of "now": one place to read time, so tests can freeze it."""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Pin utcnow() to `at` (None releases it). For tests and simulations only."""
    global _frozen
    _frozen = at

