"""Running the registered erasers, exporters and holds over one scope, and auditing it."""

from __future__ import annotations

from typing import Any

from returns_service.db import db
from returns_service.privacy.models import ErasureRecord
from returns_service.privacy.registry import Hold, Scope, registry


def holds(scope: Scope) -> list[Hold]:
    """Every reason the registered domains give not to erase (part of) `scope` yet."""
    if scope.empty:
        return []
    return [hold for check in registry().holds.values() for hold in check(scope)]


def erase(scope: Scope, *, actor_type: str = "system", actor_id: int | None = None,
          actor_label: str | None = None) -> dict[str, int]:
    """Run every eraser over `scope` in its order, in the caller's transaction, and record one
    audit row when anything changed (a second run over the same scope records nothing). The
    caller checks `holds` first and commits."""
    if scope.empty:
        return {}
    counts = {name: eraser.run(scope) for name, eraser in registry().erasers.items()}
    if any(counts.values()):
        db.session.add(ErasureRecord(
            reason=scope.reason, actor_type=actor_type, actor_id=actor_id,
            actor_label=actor_label, returns=len(scope.return_ids),
            orders=len(scope.order_ids), counts=counts))
        db.session.flush()
    return counts


def export(scope: Scope) -> dict[str, Any]:
    """What every registered domain keeps for `scope`, by domain name."""
    return {name: run(scope) for name, run in sorted(registry().exporters.items())}
