"""Count the SQL statements a block of code sends, with a SQLAlchemy engine event."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


class QueryLog:
    """Statements seen while counting (SAVEPOINT/RELEASE bookkeeping included)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def __repr__(self) -> str:
        return f"<QueryLog {self.count}:\n" + "\n".join(self.statements) + ">"


@contextmanager
def count_queries(engine: Engine) -> Iterator[QueryLog]:
    """Record every statement `engine` executes inside the block."""
    log = QueryLog()

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        log.statements.append(" ".join(statement.split())[:160])

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", before)
