"""INSERT … ON CONFLICT DO NOTHING RETURNING id, on PostgreSQL and SQLite alike.

One round trip for "record this once": no SELECT first and no SAVEPOINT around the insert.
Column defaults declared on the model (e.g. created_at) apply as for any INSERT. Values
are keyed by column name (the same as the attribute names on these models).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from returns_service.db import db


def insert_once(model: Any, values: dict[str, Any], *, unique: str) -> int | None:
    """Insert a row of `model` unless one with the same `unique` column value exists (now or
    committed concurrently); the new row's id, or None when it was already there."""
    return db.session.scalar(_insert_unless_taken(model, unique, "id"), values)


def insert_object_once(model: Any, values: dict[str, Any], *, unique: str) -> Any | None:
    """Like insert_once, but answers the new row as an object of `model` in the session
    (all its columns loaded), or None when the `unique` value was already taken."""
    return db.session.scalars(_insert_unless_taken(model, unique, "object"), values).first()


@lru_cache(maxsize=64)
def _insert_for(model: Any, unique: str, dialect: str, answer: str) -> Any:
    # One statement object per shape, reused with new values as parameters: SQLAlchemy then
    # neither rebuilds it nor recomputes its cache key on every insert.
    # An id alone is a Core INSERT on the table: the ORM's bulk-insert path (which resolves
    # every value against the mapping on each call) is only taken when an object is wanted.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    target = model.__table__ if answer == "id" else model
    statement = insert(target).on_conflict_do_nothing(index_elements=[unique])
    return statement.returning(model.__table__.c.id if answer == "id" else model)


def _insert_unless_taken(model: Any, unique: str, answer: str) -> Any:
    return _insert_for(model, unique, db.session.get_bind().dialect.name, answer)
