"""Fixed value lists written into the SQL text select what a bound IN list selects."""

from __future__ import annotations

import pytest
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    select,
)

from returns_service.db.constants import none_of, one_of

STATUSES = ["pending", "succeeded", "it's odd", "failed"]


@pytest.fixture()
def table_and_engine() -> tuple[Table, Engine]:
    metadata = MetaData()
    table = Table("t", metadata, Column("id", Integer, primary_key=True),
                  Column("status", String(32)))
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"status": s} for s in STATUSES])
    return table, engine


def test_one_of_and_none_of_select_the_rows_a_bound_list_selects(
        table_and_engine: tuple[Table, Engine]) -> None:
    table, engine = table_and_engine
    wanted = ["succeeded", "it's odd"]
    with engine.connect() as conn:
        def ids(where: object) -> list[int]:
            return list(conn.scalars(select(table.c.id).where(where).order_by(table.c.id)))

        assert ids(one_of(table.c.status, wanted)) == ids(table.c.status.in_(wanted)) == [2, 3]
        assert ids(none_of(table.c.status, wanted)) == ids(
            table.c.status.not_in(wanted)) == [1, 4]
    statement = str(select(table.c.id).where(one_of(table.c.status, wanted)))
    assert "'succeeded'" in statement and "'it''s odd'" in statement  # in the SQL text


def test_only_fixed_strings_are_written_into_sql() -> None:
    column = Column("status", String(32))
    with pytest.raises(TypeError):
        one_of(column, ["pending", 1])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        none_of(column, [])
