"""Fixed lists of values (statuses, steps) written into the SQL text of a statement.

`column.in_([...])` binds the list as an "expanding" parameter, which SQLAlchemy renders
into the statement anew on every execution: on a hot statement built once (the order
figures read by every change) that costs about a third of its time in Python. Values the
code fixes (never input) are written into the SQL instead, quoted as SQL strings; the
statement is then compiled once, on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, literal_column


def _literals(values: Iterable[str]) -> list[Any]:
    literals = []
    for value in values:
        if not isinstance(value, str):
            raise TypeError(f"only fixed strings are written into SQL, not {value!r}")
        literals.append(literal_column("'" + value.replace("'", "''") + "'"))
    if not literals:
        raise ValueError("an empty list matches nothing: say so in the query instead")
    return literals


def one_of(column: Any, values: Iterable[str]) -> ColumnElement[bool]:
    """`column IN ('a', 'b', …)` with the values in the SQL text."""
    return column.in_(_literals(values))


def none_of(column: Any, values: Iterable[str]) -> ColumnElement[bool]:
    """`column NOT IN ('a', 'b', …)` with the values in the SQL text."""
    return column.not_in(_literals(values))
