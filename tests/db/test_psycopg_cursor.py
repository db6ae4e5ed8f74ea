"""The app's psycopg cursor describes a result as psycopg's own cursor does: the same
columns (names and types), read in any order and after the cursor has moved on."""

from __future__ import annotations

import psycopg
import pytest

from returns_service.db.psycopg_cursor import LazyDescriptionCursor
from tests.conftest import TEST_DATABASE_URL

pytestmark = pytest.mark.postgres

QUERY = "SELECT 1 AS one, 'x'::varchar(5) AS label, now() AS at, NULL::numeric(6, 2) AS price"


def _shape(description: object) -> list[tuple[object, ...]]:
    return [tuple(column) for column in description]  # type: ignore[attr-defined]


def test_columns_match_psycopgs_own_description() -> None:
    with psycopg.connect(TEST_DATABASE_URL) as plain, \
            psycopg.connect(TEST_DATABASE_URL, cursor_factory=LazyDescriptionCursor) as lazy:
        expected = plain.execute(QUERY).description
        cursor = lazy.cursor()
        assert isinstance(cursor, LazyDescriptionCursor)
        described = cursor.execute(QUERY).description
        assert described is not None and expected is not None
        assert len(described) == 4
        assert _shape(described) == _shape(expected)
        assert [c.name for c in described] == ["one", "label", "at", "price"]
        assert described[-1].name == "price" and described[1:3][0].name == "label"
        assert described[1].display_size == 5 and described[3].precision == 6
        with pytest.raises(IndexError):
            described[4]


def test_a_description_keeps_its_result_after_the_next_statement() -> None:
    with psycopg.connect(TEST_DATABASE_URL, cursor_factory=LazyDescriptionCursor) as lazy:
        cursor = lazy.cursor()
        first = cursor.execute("SELECT 1 AS a, 2 AS b").description
        cursor.execute("SELECT 'z' AS other")
        assert first is not None and [c.name for c in first] == ["a", "b"]


def test_a_statement_without_rows_has_no_description() -> None:
    with psycopg.connect(TEST_DATABASE_URL, cursor_factory=LazyDescriptionCursor) as lazy:
        cursor = lazy.cursor()
        cursor.execute("CREATE TEMPORARY TABLE described (n int)")
        assert cursor.execute("INSERT INTO described VALUES (1)").description is None
        returned = cursor.execute("INSERT INTO described VALUES (2) RETURNING n").description
        assert returned is not None and [c.name for c in returned] == ["n"]
        assert cursor.execute("SELECT n FROM described WHERE false").description is not None


def test_the_app_runs_its_statements_on_this_cursor(app) -> None:
    from returns_service.db import db

    with app.app_context():
        dbapi = db.session.connection().connection.dbapi_connection
        assert isinstance(dbapi.cursor(), LazyDescriptionCursor)
