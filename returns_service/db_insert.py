"""INSERT … ON CONFLICT DO NOTHING RETURNING id, on PostgreSQL and SQLite alike.

One round trip for "record this once": no SELECT first and no SAVEPOINT around the insert.
Column defaults declared on the model (e.g. created_at) apply as for any INSERT.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from returns_service.extensions import db


def insert_once(model: Any, values: dict[str, Any], *, unique: str) -> int | None:
    """Insert a row of `model` unless one with the same `unique` column value exists (now or
    committed concurrently); the new row's id, or None when it was already there."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (insert(model).values(**values)
                 .on_conflict_do_nothing(index_elements=[unique])
                 .returning(model.id))
    return db.session.scalar(statement)
