"""The RQ dashboard at /staff/rq: queues and failed jobs for admins, nobody else."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.support.console import login


@pytest.fixture
def redis_app(build_app: Any, tokens_for: Any) -> Any:
    from tests.conftest import TEST_REDIS_URL

    app = build_app(REDIS_URL=TEST_REDIS_URL, RQ_QUEUE=f"dashboard-{os.getpid()}")
    tokens_for(app)
    return app


@pytest.fixture
def tokens_for(tokens: dict[str, str]) -> Any:
    """The staff users exist in the shared database once `tokens` ran."""
    return lambda app: tokens


@pytest.mark.redis
def test_an_admin_sees_the_queues_with_its_own_page_policy(redis_app: Any) -> None:
    client = redis_app.test_client()
    login(client, "admin")
    home = client.get("/staff/", follow_redirects=True).get_data(as_text=True)
    assert ">Jobs<" in home
    page = client.get("/staff/rq/")
    assert page.status_code == 200 and b"RQ" in page.data
    assert "'unsafe-inline'" in page.headers["Content-Security-Policy"]
    queue = redis_app.extensions["rq_queue"]
    queue.enqueue("returns_service.worker.scheduled_tick")  # waiting: nobody works this queue
    try:
        queues = client.get("/staff/rq/0/data/queues.json").get_json()["queues"]
    finally:
        queue.delete(delete_jobs=True)
    assert {"name": queue.name, "count": 1} in [
        {"name": q["name"], "count": q["count"]} for q in queues]
    # Every other page keeps the strict policy.
    assert "'unsafe-inline'" not in client.get("/staff/", follow_redirects=True).headers[
        "Content-Security-Policy"]


@pytest.mark.redis
def test_agents_get_403_and_visitors_the_login_page(redis_app: Any) -> None:
    anonymous = redis_app.test_client().get("/staff/rq/")
    assert anonymous.status_code == 302 and "/staff/login" in anonymous.headers["Location"]
    client = redis_app.test_client()
    login(client, "agent")
    assert client.get("/staff/rq/").status_code == 403
    assert ">Jobs<" not in client.get("/staff/", follow_redirects=True).get_data(as_text=True)


def test_without_redis_there_is_no_dashboard(app: Any, client: Any) -> None:
    login(client, "admin")
    assert client.get("/staff/rq/").status_code == 404
