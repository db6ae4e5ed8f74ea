"""A pooled connection is checked before use (db.liveness): one the database dropped while
it sat in the pool is replaced, so the request that takes it does not fail."""

from __future__ import annotations

import gc
import warnings
from typing import Any

import psycopg
import pytest

from returns_service.db import db
from tests.conftest import TEST_DATABASE_URL


@pytest.mark.postgres
def test_connections_dropped_while_idle_in_the_pool_are_replaced_unseen(app: Any, api: Any,
                                                                      make_return: Any) -> None:
    rma = make_return()["rma"]
    with app.app_context():
        db.session.remove()
        pooled = db.engine.pool.checkedin()
    assert pooled >= 1  # idle in the pool, for the next request to take
    with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as admin:  # a database restart
        dropped = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
            "current_database() AND pid <> pg_backend_pid() AND backend_type = "
            "'client backend'").fetchone()[0]
    assert dropped >= pooled
    response = api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "approved"
    with app.app_context():
        db.engine.dispose()
    with warnings.catch_warnings():  # the dropped connection, let go without close()
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
