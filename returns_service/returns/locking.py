"""How a return about to change is read: one Core statement under the return's row lock
(and, without the lock, a return about to be shown in an email).

What a change goes on to need comes in the same statement, one row per item: the return,
its order (the customer's email, the refund's currency and payment), and its items with
their order lines (the answer, the emails, the refund); a read that had to wait for the lock
is repeated once it holds it (db.loaded.read_locked_rows). The rows become the session's
objects as the ORM would have loaded them (returns_service.db.loaded), without its query
and loading machinery; the change itself is made on those objects and written by
returns.writes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from returns_service.db import db
from returns_service.db.loaded import attach, loaded, read_locked_rows, read_rows
from returns_service.orders.models import Order, OrderLine
from returns_service.returns.models import Return, ReturnItem

_PARTS = (Return, Order, ReturnItem, OrderLine)
_KEYS = tuple(tuple(c.key for c in model.__table__.columns) for model in _PARTS)
for _model, _keys in zip(_PARTS, _KEYS, strict=True):  # attribute names are column names
    assert set(_keys) == {p.key for p in _model.__mapper__.column_attrs}, _model
_RETURNS, _ORDERS, _ITEMS, _LINES = (model.__table__ for model in _PARTS)
_ENDS = [0]  # where each part's columns end in a row
for _keys in _KEYS:
    _ENDS.append(_ENDS[-1] + len(_keys))


def _reading(where: Any, *, locked: bool = False) -> Any:
    """Built once, executed with parameters."""
    joined = (_RETURNS.join(_ORDERS, _ORDERS.c.id == _RETURNS.c.order_id)
              .outerjoin(_ITEMS, _ITEMS.c.return_id == _RETURNS.c.id)
              .outerjoin(_LINES, _LINES.c.id == _ITEMS.c.order_line_id))
    if not locked:
        return (select(*_RETURNS.c, *_ORDERS.c, *_ITEMS.c, *_LINES.c).select_from(joined)
                .where(where).order_by(_ITEMS.c.id))
    return (select(*_RETURNS.c, *_ORDERS.c, *_ITEMS.c, *_LINES.c, _SEEN.c.version)
            .select_from(joined.join(_SEEN, _SEEN.c.id == _RETURNS.c.id))
            .where(where).order_by(_ITEMS.c.id).with_for_update(of=_RETURNS))


# The return as the locking statement's snapshot saw it (not locked): its version tells a
# read that waited for the lock (read_locked_rows); every change of a return or of its
# items moves the version.
_SEEN = _RETURNS.alias("seen")
_BY_RMA = _reading(_RETURNS.c.rma == bindparam("rma"), locked=True)
_BY_ID = _reading(_RETURNS.c.id == bindparam("id"), locked=True)
_SHOWN_BY_ID = _reading(_RETURNS.c.id == bindparam("id"))
_VERSION = _KEYS[0].index("version")  # the return's version, first part of a row


def read_locked(*, rma: str | None = None, return_id: int | None = None) -> Return | None:
    """The return with this RMA (or id), row-locked on PostgreSQL for the rest of the
    transaction, with its order and its items and their lines; None when there is none.
    A return already in the session is refreshed in place."""
    statement, params = ((_BY_RMA, {"rma": rma}) if rma is not None
                         else (_BY_ID, {"id": return_id}))
    return _read(read_locked_rows(db.session, statement, params, _VERSION))


def read_return(return_id: int) -> Return | None:
    """read_locked without the lock: the return, its order, items and lines to show (an
    email about it)."""
    return _read(read_rows(db.session, _SHOWN_BY_ID, {"id": return_id}))


def _read(rows: list[Any]) -> Return | None:
    """The return of these rows as the session's objects; None when there are none."""
    session = db.session
    if not rows:
        return None
    ends = _ENDS
    first = rows[0]
    new: list[Any] = []
    order, is_new = loaded(session, Order, _values(first, 1, ends))
    new += [order] if is_new else []
    items = []
    for row in rows:
        if row[ends[2]] is None:  # no items (the outer join's one row of NULLs)
            continue
        line, is_new = loaded(session, OrderLine, _values(row, 3, ends))
        new += [line] if is_new else []
        item, is_new = loaded(session, ReturnItem, _values(row, 2, ends),
                              {"order_line": line})
        new += [item] if is_new else []
        items.append(item)
    ret, is_new = loaded(session, Return, _values(first, 0, ends),
                         {"order": order, "items": items})
    new += [ret] if is_new else []
    attach(session, ret, new)
    return ret


def _values(row: Any, part: int, ends: list[int]) -> dict[str, Any]:
    return dict(zip(_KEYS[part], row[ends[part]:ends[part + 1]], strict=True))
