"""Who erases, exports and holds back personal data: one entry per domain, registered by the
domain itself, so no module here knows any table.

- An **eraser** takes a `Scope`, overwrites or deletes the personal data its domain keeps for
  it, and answers how many rows (or files) it changed. It must be safe to run again: a
  second run over the same scope changes nothing and answers 0.
- An **exporter** answers a JSON-ready value: what its domain keeps for the scope.
- A **hold** answers why some of the scope may not be erased yet (a refund still pending,
  store credit still to spend), as `Hold`s naming the return when there is one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app


@dataclass(frozen=True)
class Scope:
    """Whose personal data: returns and orders by id, and, when a customer asked, the
    customer's email (lower case) for the rows kept by email rather than by return."""

    return_ids: tuple[int, ...] = ()
    order_ids: tuple[int, ...] = ()
    emails: tuple[str, ...] = ()
    reason: str = "retention"  # retention (the scheduler) or request (a customer asked)

    @property
    def empty(self) -> bool:
        return not (self.return_ids or self.order_ids or self.emails)


@dataclass(frozen=True)
class Hold:
    """A reason not to erase yet, written for staff; `return_id` None: the whole customer."""

    message: str
    return_id: int | None = None


@dataclass(frozen=True)
class Eraser:
    name: str
    run: Callable[[Scope], int]
    position: int  # lower runs first: files and logs before the rows that lead to them


@dataclass
class Registry:
    erasers: dict[str, Eraser] = field(default_factory=dict)
    exporters: dict[str, Callable[[Scope], Any]] = field(default_factory=dict)
    holds: dict[str, Callable[[Scope], list[Hold]]] = field(default_factory=dict)


def _registry(app: Flask) -> dict[str, dict[str, Any]]:
    return app.extensions.setdefault("personal_data",
                                     {"erasers": {}, "exporters": {}, "holds": {}})


def register_eraser(app: Flask, name: str, run: Callable[[Scope], int], *,
                    position: int) -> None:
    """Add `name`'s eraser (the same name again replaces it)."""
    _registry(app)["erasers"][name] = Eraser(name, run, position)


def register_exporter(app: Flask, name: str, run: Callable[[Scope], Any]) -> None:
    """Add `name`'s exporter: its answer is the export's `name` key."""
    _registry(app)["exporters"][name] = run


def register_hold(app: Flask, name: str, run: Callable[[Scope], list[Hold]]) -> None:
    """Add a check that may hold back part of an erasure."""
    _registry(app)["holds"][name] = run


def registry(app: Flask | None = None) -> Registry:
    """This app's registrations, erasers in their order."""
    entries = _registry(app or current_app)
    erasers = dict(sorted(entries["erasers"].items(), key=lambda item: item[1].position))
    return Registry(erasers, dict(entries["exporters"]), dict(entries["holds"]))
