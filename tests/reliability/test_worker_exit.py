"""`flask worker --burst` on an empty queue exits promptly, every time.

rq unsubscribes its pub/sub thread before telling it to stop; the server's reply to the
unsubscribe often woke the thread first, which then waited up to 60 s for another message
while redis-py's `stop()` waited for it: "done, quitting", then 61 s of nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.redis


def test_a_burst_worker_on_an_empty_queue_exits_within_seconds_each_time(
        app_config: dict[str, Any]) -> None:
    env = {**os.environ, "DATABASE_URL": app_config["DATABASE_URL"],
           "SECRET_KEY": "test-secret", "REDIS_URL": TEST_REDIS_URL,
           "RQ_QUEUE": f"empty-{uuid.uuid4().hex[:8]}", "LOG_LEVEL": "INFO"}
    durations = []
    for _ in range(8):
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "worker",
                                 "--burst"], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=90)
        durations.append(round(time.monotonic() - started, 1))
        assert result.returncode == 0, result.stderr[-2000:]
        assert "done, quitting" in result.stderr
        # The hang was 60 s of nothing; a start under a loaded machine takes 2-15 s.
        assert durations[-1] < 30, durations
