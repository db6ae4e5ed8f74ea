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
    committed concurrently); the new row's id, or None when it was already there.

    Sent on the session's transaction connection: no autoflush first (the ORM objects a
    caller still has pending are its own business) and none of the ORM's work around a
    Core statement."""
    connection = db.session.connection()
    return connection.execute(_insert_for(model, unique, connection.dialect.name),
                              values).scalar()


@lru_cache(maxsize=64)
def _insert_for(model: Any, unique: str, dialect: str) -> Any:
    # One statement object per shape, reused with new values as parameters: SQLAlchemy then
    # neither rebuilds it nor recomputes its cache key on every insert. A Core INSERT on the
    # table: the ORM's bulk-insert path resolves every value against the mapping each call.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model.__table__).on_conflict_do_nothing(index_elements=[unique])
    return statement.returning(model.__table__.c.id)
