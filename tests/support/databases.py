"""Databases of their own for tests that need an empty one (deploying, a read replica): made
on the test PostgreSQL server and dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import TEST_DATABASE_URL


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty database of its own on the test server, dropped afterwards."""
    assert TEST_DATABASE_URL
    name = f"deploy_{uuid.uuid4().hex[:10]}"
    server = create_engine(TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://"),
                           isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        # template0 takes no connections: concurrent CREATE DATABASEs from template1
        # fail with "source database is being accessed by other users".
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    try:
        yield TEST_DATABASE_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
