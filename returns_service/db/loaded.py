"""Objects built from rows read with Core, placed in the session as if the ORM had loaded them.

On the hot paths, rows read with a Core statement (`read_rows`) cost a fraction of the
ORM's query and loading machinery. `loaded` turns each row's column values into the mapped
object the rest of the code expects: the object already in the session for that row,
refreshed in place (as a query with `populate_existing` would), or a new one; `attach` then
makes the new ones persistent (session.add, which follows their relationships), so lazy
loads, identity-map lookups and changes work on them as on any loaded object. Values are
keyed by attribute name, which on these models is the column name.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value


def read_rows(session: Session, statement: Any, params: dict[str, Any]) -> list[Any]:
    """The rows of a Core `statement` on the session's transaction; changes still pending
    in the session are written first, as before any query (unless autoflush is off)."""
    if session.autoflush:
        session.flush()  # next to nothing when the session is clean
    return session.connection().execute(statement, params).all()


def read_locked_rows(session: Session, statement: Any, params: dict[str, Any],
                     marker: int) -> list[Any]:
    """`read_rows` for a statement that row-locks one table's row and joins others to it,
    its last column the locked row's column at `marker` (a version, a timestamp every
    write moves) as the statement's snapshot saw it, from an unlocked alias of the table.

    Under READ COMMITTED a statement that waited for the lock returns the locked row as its
    holder committed it, but the joined rows as they were when the statement started: the
    two markers then differ, and the statement runs again, the lock now held."""
    rows = read_rows(session, statement, params)
    if rows and rows[0][marker] != rows[0][-1]:
        rows = read_rows(session, statement, params)
    return rows


def loaded(session: Session, model: Any, values: dict[str, Any],
           relations: dict[str, Any] | None = None) -> tuple[Any, bool]:
    """The `model` object holding `values` (its row) and `relations` (related objects, or
    lists of them) as its committed state, and whether it is new to the session (then
    call `attach` once every new object has its relations)."""
    mapper = model.__mapper__
    obj = session.identity_map.get(mapper.identity_key_from_primary_key((values["id"],)))
    new = obj is None
    if new:
        obj = mapper.class_manager.new_instance()
    obj.__dict__.update(values)  # plain column values: set as loaded, no change history
    for key, value in (relations or {}).items():
        set_committed_value(obj, key, value)  # collections need the ORM's own list type
    if not new:
        # What a refresh leaves: the row's values as committed, nothing pending on it.
        state = inspect(obj)
        state._commit_all(state.dict, session.identity_map)
    return obj, new


def object_from_row(session: Session, model: Any, row: Any,
                    relations: dict[str, Any] | None = None) -> Any:
    """The session's `model` object for one row of all its table's columns (in table
    order), with `relations` set: `loaded`, then `attach` when it is new."""
    obj, new = loaded(session, model, dict(zip(_column_keys(model), row, strict=True)),
                      relations)
    if new:
        attach(session, obj, [obj])
    return obj


@cache
def _column_keys(model: Any) -> tuple[str, ...]:
    return tuple(column.key for column in model.__table__.columns)


def attach(session: Session, root: Any, new: list[Any]) -> None:
    """Make the `new` objects (from `loaded`) persistent in `session`, through `root`."""
    for obj in new:
        make_transient_to_detached(obj)  # what is not set is loaded when first read
    if new:
        session.add(root)  # follows root's relationships: adds each new object once
