"""A worker told to stop stops promptly: `flask worker --burst` on an empty queue, as a
deploy script or a cron job runs it, exits in seconds, every time."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import TEST_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.redis
def test_a_burst_worker_on_an_empty_queue_exits_within_seconds(tmp_path: Path) -> None:
    env = {**os.environ, "REDIS_URL": TEST_REDIS_URL or "", "LOG_LEVEL": "WARNING",
           "RQ_QUEUE": f"burst-{uuid.uuid4().hex[:8]}", "SECRET_KEY": "x",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'burst.db'}"}
    took = []
    for _ in range(8):
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "worker",
                               "--burst"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)
        took.append(time.monotonic() - started)
        assert done.returncode == 0, done.stderr
    assert max(took) < 10, took  # it was up to 61 s: the command listener's 60 s read
