"""The psycopg cursor the app's PostgreSQL connections use: psycopg's own, with a result's
column description built only for the columns someone looks at.

psycopg builds one `Column` object per result column each time `cursor.description` is
read, and SQLAlchemy reads it after every statement: but once a statement's result shape
is known (its compiled form keeps it), SQLAlchemy only asks whether there is a description
and how long it is. A lock read of a return with its order and items has about 70 columns;
building them all for nothing was a few per cent of each request. This description holds
the result it describes (results do not change once received) and builds a `Column` when
one is asked for, the same `Column` psycopg would have built (from what psycopg's own
`description` reads of the cursor: its result, adapters and encoding; pyproject.toml keeps
psycopg to the releases this was checked against).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import Column, Cursor, pq

_TUPLES = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.SINGLE_TUPLE, pq.ExecStatus.TUPLES_CHUNK)


class _Described:
    """What `Column` reads of a cursor, as it was when the result arrived."""

    __slots__ = ("_encoding", "adapters", "pgresult")

    def __init__(self, cursor: Cursor[Any]) -> None:
        self.pgresult = cursor.pgresult
        self.adapters = cursor.adapters
        self._encoding = cursor._encoding


class Description(Sequence[Column]):
    """`cursor.description` of one result: its columns, each built when first read."""

    __slots__ = ("_columns", "_count", "_described")

    def __init__(self, cursor: Cursor[Any], count: int) -> None:
        self._described = _Described(cursor)
        self._count = count
        self._columns: dict[int, Column] = {}

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError("description index out of range")
        column = self._columns.get(index)
        if column is None:
            column = self._columns[index] = Column(self._described, index)  # type: ignore[arg-type]
        return column

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return list(self) == list(other)

    def __repr__(self) -> str:
        return repr(list(self))


class LazyDescriptionCursor(Cursor[Any]):
    """psycopg's Cursor; only `description` differs, and only in when columns are built."""

    @property
    def description(self) -> Description | None:  # type: ignore[override]
        # The same test as psycopg's: columns, or a result that said it holds rows.
        res = self.pgresult
        if res and (res.nfields or res.status in _TUPLES):
            return Description(self, res.nfields)
        return None
