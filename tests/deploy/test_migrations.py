"""`flask db upgrade` on deploy: safe to run again, and from two hosts at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]


def upgrade(url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "deploy-test", "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


@pytest.mark.postgres
def test_two_hosts_upgrading_at_once_both_succeed(fresh_database: str) -> None:
    first, second = upgrade(fresh_database), upgrade(fresh_database)
    outputs = [p.communicate(timeout=120)[0] for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    again = upgrade(fresh_database)  # and once more: nothing to do
    assert again.communicate(timeout=120) and again.returncode == 0
    engine = create_engine(fresh_database.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        versions = connection.scalars(text("SELECT version_num FROM alembic_version")).all()
        returns = connection.scalar(text("SELECT count(*) FROM returns"))
    engine.dispose()
    assert len(versions) == 1 and returns == 0
