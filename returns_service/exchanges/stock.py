"""Stock held for exchanges: reserved atomically, released once.

A reservation is one conditional UPDATE (`reserved + n` only while `on_hand - reserved >= n`),
so concurrent requests for the last units cannot oversell, whatever the isolation level: the
row lock taken by the UPDATE makes the second writer re-check the condition on the new row."""

from __future__ import annotations

from sqlalchemy import update

from returns_service.db import db
from returns_service.exchanges.models import Variant


def reserve(variant_id: int, quantity: int) -> bool:
    """Hold `quantity` of the variant; False when fewer are available."""
    result = db.session.execute(
        update(Variant)
        .where(Variant.id == variant_id, Variant.active.is_(True),
               Variant.on_hand - Variant.reserved >= quantity)
        .values(reserved=Variant.reserved + quantity)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def release(variant_id: int, quantity: int) -> None:
    """Give back what a reservation held (its exchange ended without shipping)."""
    db.session.execute(
        update(Variant).where(Variant.id == variant_id, Variant.reserved >= quantity)
        .values(reserved=Variant.reserved - quantity)
        .execution_options(synchronize_session=False))


def ship(variant_id: int, quantity: int) -> None:
    """The store shipped it: the units leave both its on-hand count and our reservation
    (the store's next PUT will say the same on-hand count)."""
    db.session.execute(
        update(Variant).where(Variant.id == variant_id, Variant.reserved >= quantity)
        .values(reserved=Variant.reserved - quantity,
                on_hand=db.func.greatest(Variant.on_hand - quantity, 0)
                if db.engine.dialect.name == "postgresql"
                else db.func.max(Variant.on_hand - quantity, 0))
        .execution_options(synchronize_session=False))
