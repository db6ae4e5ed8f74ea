"""Health endpoints for load balancers and orchestrators.

- `GET /healthz/live`: the process answers (liveness; touches nothing else, so a database
  outage does not get every web process restarted);
- `GET /healthz/ready`: the database and Redis (when configured) answer and the schema is at
  the migrations' head (readiness: take traffic only then); `GET /healthz` is the same check.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from returns_service.db import db

bp = Blueprint("health", __name__)


@bp.get("/healthz/live")
def live() -> Any:
    return jsonify(status="ok")


@bp.get("/healthz")
@bp.get("/healthz/ready")
def ready() -> Any:
    checks = {"database": _database(), "migrations": _migrations(), "redis": _redis()}
    healthy = all(v == "ok" or v.startswith("not configured") for v in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", checks=checks), (
        200 if healthy else 503)


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # report, don't raise: this endpoint is for load balancers
        db.session.rollback()
        return f"error: {type(exc).__name__}"


def _migrations() -> str:
    head = _head(str(current_app.extensions["migrate"].directory))
    try:
        current = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception as exc:
        db.session.rollback()
        return f"error: {type(exc).__name__} (run `flask db upgrade`)"
    if current != head:
        return f"error: schema at {current}, code expects {head} (run `flask db upgrade`)"
    return "ok"


def _redis() -> str:
    redis = current_app.extensions.get("redis")
    if redis is None:
        return "not configured (jobs run in-process)"
    try:
        redis.ping()
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


@cache
def _head(directory: str) -> str | None:
    """The revision the code expects (the migrations' single head), read once per process."""
    config = Config()
    config.set_main_option("script_location", str(Path(directory)))
    return ScriptDirectory.from_config(config).get_current_head()
