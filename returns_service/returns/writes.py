"""How a change to a return reaches the database: Core statements, no unit-of-work flush.

The workflow (workflows/returns.py) fires on the loaded Return object: it sets the status,
stamps the row and appends its audit events; services set the other columns and the items'.
`save` then writes what changed, with statements built once per shape and batched:

- the changed columns of `returns`: one UPDATE under the version guard (the id and the
  version read), which bumps the version and `updated_at`; no row means someone changed
  the return meanwhile (EditConflict);
- new items: one INSERT for all, RETURNING their ids; changed items: one UPDATE per set of
  changed columns, all items at once;
- the audit events appended since the last save: one INSERT for all.

Afterwards the objects hold what was written as their committed state and are no longer
marked modified, so the session is clean: no flush runs before the next query or at the
commit. This is the one way a return's change is written: `transition` saves right after
the workflow fired and its subscribers answered (so the conflict is raised where the change
was made), or, inside `written_once`, once for all the changes a request makes (a receipt
and the refund it starts); anything else appended or changed on a return (a staff note, a
review flag) is saved by the session's `before_flush` hook, that is before the next query,
or by its `before_commit` hook.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, event, insert, inspect, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from returns_service.common.clock import utcnow
from returns_service.common.errors import EditConflict
from returns_service.db import db
from returns_service.returns.models import MEMO, UNSAVED, Return, ReturnEvent, ReturnItem

_RETURNS = Return.__table__
_ITEMS = ReturnItem.__table__
_EVENTS = ReturnEvent.__table__
_RETURN_COLUMNS = frozenset(p.key for p in Return.__mapper__.column_attrs)
_ITEM_COLUMNS = frozenset(p.key for p in ReturnItem.__mapper__.column_attrs)
_EVENT_COLUMNS = tuple(c.key for c in _EVENTS.columns if c.key != "id")
_NEW_ITEM_COLUMNS = ("return_id", "order_line_id", "quantity", "reason", "comment",
                     "received_quantity", "condition", "restock", "inspection_note")
_INSERT_EVENTS = insert(_EVENTS)
_INSERT_ITEMS = insert(_ITEMS).returning(_ITEMS.c.id, sort_by_parameter_order=True)


def conflict(rma: str) -> EditConflict:
    return EditConflict(f"{rma} was changed by someone else at the same time. "
                        "Reload and try again.")


# Inside `written_once`: the return is held (its saves wait for the block's end), and the
# columns each object changed meanwhile are noted on it until they are written.
_HELD = "_written_once"
_NOTED = "_noted_changes"


@contextmanager
def written_once(ret: Return) -> Iterator[Return]:
    """Changes made to `ret` inside the block are written together when it ends: one UPDATE
    of the return and one INSERT of its events, however many status changes it went through
    (a receipt that starts a refund is two), and its items' changes with them. The return is
    row-locked by then, so no one else can change it in between. Queries inside the block
    may flush the session: what changed so far is noted and the objects marked clean, so
    the ORM never writes the return itself. Code inside must not read the return again for
    change (the read would replace what is held). A block inside another is part of it.

    An error inside writes nothing: the events it queued are dropped and the columns it
    changed are expired (read again from the database), whether or not the caller then
    rolls back."""
    if _HELD in ret.__dict__:  # already held by an enclosing block, which writes
        yield ret
        return
    ret.__dict__[_HELD] = True
    queued = len(ret.__dict__.get("_unsaved_events") or ())
    try:
        yield ret
    except BaseException:
        _drop_held(ret, queued)
        raise
    finally:
        del ret.__dict__[_HELD]
    save(ret)


def _drop_held(ret: Return, queued: int) -> None:
    """Forget what a failed `written_once` block held: events queued in it, noted columns."""
    pending = ret.__dict__.get("_unsaved_events")
    if pending is not None:
        del pending[queued:]
    session = inspect(ret).session
    for obj, columns in ((ret, _RETURN_COLUMNS),
                         *((item, _ITEM_COLUMNS) for item in ret.__dict__.get("items") or ())):
        changed = _changes(obj, columns)
        if changed and session is not None:
            session.expire(obj, sorted(changed))


def save(ret: Return, session: Session | None = None) -> None:
    """Write `ret`'s changed columns, its new or changed items and its new audit events, in
    `session`'s transaction (by default the app's session); inside `written_once`, only
    note what changed, for the write at its end."""
    items = ret.__dict__.get("items")
    written = [item for item in items or () if item.__dict__.get("id") is not None]
    if _HELD in ret.__dict__:  # new items are inserted at the end
        for obj, columns in ((ret, _RETURN_COLUMNS), *((item, _ITEM_COLUMNS) for item in written)):
            _note_changes(obj, columns)
        return
    # On the transaction's connection: no autoflush (whose hook would save the same return
    # again, in the middle of this save) and none of the ORM's work around a statement.
    connection = (session or db.session).connection()
    changed = _changes(ret, _RETURN_COLUMNS)
    item_changes = [(item, keys) for item in written
                    if (keys := _changes(item, _ITEM_COLUMNS))]
    # A change of its items alone moves the return's version too: a reader that waited for
    # the lock tells by the version that what it joined is out of date (returns.locking).
    if changed or item_changes:
        _update_return(connection, ret, changed)
    if items:
        _save_items(connection, ret, items, item_changes)
    pending = ret.__dict__.get("_unsaved_events")
    if pending:
        ret.__dict__["_unsaved_events"] = []
        connection.execute(_INSERT_EVENTS, [_event_values(ret, e) for e in pending])
    for obj in (ret, *(items or ())):
        _mark_clean(obj)


def _unwritten(obj: Any, columns: frozenset[str]) -> set[str]:
    """The `columns` of `obj` set since it was loaded, last written or last noted."""
    return {key for key in inspect(obj).committed_state if key in columns}


def _changes(obj: Any, columns: frozenset[str]) -> tuple[str, ...]:
    """The columns of `obj` changed since it was loaded or last written (noted ones
    included, and no longer noted), sorted."""
    return tuple(sorted(_unwritten(obj, columns) | obj.__dict__.pop(_NOTED, set())))


def _note_changes(obj: Any, columns: frozenset[str]) -> None:
    """Note which columns of `obj` changed and take its values as committed, so that a
    flush before the write finds nothing to write."""
    keys = _unwritten(obj, columns)
    if keys:
        obj.__dict__.setdefault(_NOTED, set()).update(keys)
        for key in keys:
            set_committed_value(obj, key, obj.__dict__.get(key))
    _mark_clean(obj)


def _mark_clean(obj: Any) -> None:
    """What was written is the object's committed state: with nothing else changed on it,
    clear its "modified" mark too. Left set, the session would count it as dirty and run a
    flush (which finds nothing to write) before every query and at the commit."""
    state = inspect(obj)
    if state.modified and not state.committed_state:
        state._commit_all(state.dict, state._instance_dict())


def _update_return(connection: Any, ret: Return, changed: tuple[str, ...]) -> None:
    values = {f"v_{key}": getattr(ret, key) for key in changed}
    version, now = ret.version, utcnow()
    result = connection.execute(_return_update(changed), {
        **values, "_id": ret.id, "_version": version, "_new_version": version + 1,
        "_now": now})
    if result.rowcount != 1:
        raise conflict(ret.rma)
    for key in changed:
        set_committed_value(ret, key, ret.__dict__[key])
    set_committed_value(ret, "version", version + 1)
    set_committed_value(ret, "updated_at", now)


@lru_cache(maxsize=64)
def _return_update(keys: tuple[str, ...]) -> Any:
    return (update(_RETURNS)
            .where(_RETURNS.c.id == bindparam("_id"),
                   _RETURNS.c.version == bindparam("_version"))
            .values({**{key: bindparam(f"v_{key}") for key in keys},
                     "version": bindparam("_new_version"), "updated_at": bindparam("_now")}))


def _save_items(connection: Any, ret: Return, items: list[ReturnItem],
                changes: list[tuple[ReturnItem, tuple[str, ...]]]) -> None:
    """Insert the new items; update the written ones with their `changes`."""
    new = [item for item in items if item.__dict__.get("id") is None]
    if new:
        rows = [{"return_id": ret.id, "order_line_id": item.order_line_id
                 or item.order_line.id, **{key: item.__dict__.get(key) for key in
                                           _NEW_ITEM_COLUMNS[2:]}} for item in new]
        ids = connection.execute(_INSERT_ITEMS, rows).scalars().all()
        for item, row, item_id in zip(new, rows, ids, strict=True):
            for key, value in row.items():
                set_committed_value(item, key, value)
            set_committed_value(item, "id", item_id)
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for item, changed in changes:
        by_shape.setdefault(changed, []).append(
            {"_id": item.id, **{f"v_{key}": item.__dict__.get(key) for key in changed}})
        for key in changed:
            set_committed_value(item, key, item.__dict__.get(key))
    for keys, rows in by_shape.items():
        connection.execute(_item_update(keys), rows)


@lru_cache(maxsize=64)
def _item_update(keys: tuple[str, ...]) -> Any:
    return (update(_ITEMS).where(_ITEMS.c.id == bindparam("_id"))
            .values({key: bindparam(f"v_{key}") for key in keys}))


def _event_values(ret: Return, event_row: ReturnEvent) -> dict[str, Any]:
    values = {key: event_row.__dict__.get(key) for key in _EVENT_COLUMNS}
    values["return_id"] = ret.id
    if values["created_at"] is None:
        values["created_at"] = utcnow()
    if values["customer_visible"] is None:
        values["customer_visible"] = True
    return values


def install() -> None:
    """Listen on every ORM session, once per process."""
    if not event.contains(Session, "before_flush", _save_watched):
        event.listen(Session, "before_flush", _save_watched)
        # A commit flushes only a session with changes it knows of: a return created with
        # Core statements is in no session, so its later changes are saved here.
        event.listen(Session, "before_commit", _save_before_commit)
        event.listen(Session, "after_transaction_end", _forget)


def _save_watched(session: Session, flush_context: Any, instances: Any) -> None:
    # Returns changed by ORM attribute access alone (no save called) are written here too,
    # the same way, so the ORM's own UPDATE of a return never runs.
    watched = session.info.setdefault(UNSAVED, {})
    for obj in session.dirty:
        if isinstance(obj, Return):
            watched[id(obj)] = obj
    for ret in list(watched.values()):
        save(ret, session)


def _save_before_commit(session: Session) -> None:
    for ret in list((session.info.get(UNSAVED) or {}).values()):
        save(ret, session)


def _forget(session: Session, transaction: Any) -> None:
    # Events still queued at the end were rolled back with the rest: never written later.
    if transaction.parent is None:
        session.info.pop(MEMO, None)
        for ret in (session.info.pop(UNSAVED, None) or {}).values():
            ret.__dict__.pop("_unsaved_events", None)
