"""Liveness and readiness: a load balancer sends traffic only to a ready process, and an
orchestrator restarts only a process that no longer answers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from returns_service.db import db


def test_live_answers_without_asking_the_database(build_app: Any) -> None:
    app = build_app(DATABASE_URL="postgresql://postgres@127.0.0.1:1/nowhere")
    assert app.test_client().get("/healthz/live").status_code == 200
    assert app.test_client().get("/healthz/ready").status_code == 503


def test_ready_checks_database_redis_and_the_schema(client: Any) -> None:
    ready = client.get("/healthz/ready")
    assert ready.status_code == 200
    assert ready.json["checks"]["database"] == "ok"
    assert ready.json["checks"]["migrations"] == "ok"
    assert client.get("/healthz").json == ready.json  # the old path is the same check


def test_a_schema_behind_the_code_is_not_ready(app: Any, client: Any) -> None:
    with app.app_context():
        head = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        db.session.execute(text("UPDATE alembic_version SET version_num = 'cbf7141a581f'"))
        db.session.commit()
    try:
        ready = client.get("/healthz/ready")
    finally:
        with app.app_context():
            db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
            db.session.commit()
    assert ready.status_code == 503
    assert "run `flask db upgrade`" in ready.json["checks"]["migrations"]
    assert client.get("/healthz/live").status_code == 200
