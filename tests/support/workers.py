"""Real `rq worker` processes for the tests that kill one mid-job (refunds, labels, webhook
deliveries, exchange charges): a queue of the test's own on the test Redis, a worker started
like in production, and SIGKILL for it and its work horse at once, like a machine going
away."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from tests.conftest import TEST_REDIS_URL
from tests.support.stripe import API_KEY

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def queue_name() -> Iterator[str]:
    """A queue of this test's own on the test Redis, removed after."""
    name = f"worker-test-{uuid.uuid4().hex[:8]}"
    yield name
    redis = Redis.from_url(TEST_REDIS_URL)
    for key in redis.scan_iter(f"rq:*{name}*"):
        redis.delete(key)


def start_worker(app_config: dict[str, Any], api_base: str, queue: str, *, burst: bool,
                 log: Path, **extra: str) -> subprocess.Popen[bytes]:
    """`rq worker` in its own process group, configured from the environment like in prod."""
    env = {**os.environ, "DATABASE_URL": app_config["DATABASE_URL"],
           "REDIS_URL": TEST_REDIS_URL, "RQ_QUEUE": queue, "STRIPE_API_KEY": API_KEY,
           "STRIPE_API_BASE": api_base, "SECRET_KEY": "test-secret", **extra}
    command = [str(Path(sys.executable).parent / "rq"), "worker", "--url", TEST_REDIS_URL,
               "--path", str(ROOT), "--worker-class", "returns_service.worker.Worker",
               *(["--burst"] if burst else []), queue]
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants (RQ's work horse runs in its own session, so
    killing the worker's process group alone would leave it running)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def kill_hard(process: subprocess.Popen[bytes]) -> list[int]:
    """SIGKILL the worker and its work horse at once, like a machine going away; return the
    pids still running afterwards (none, once the kernel has finished them off)."""
    tree = process_tree(process.pid)
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)
    for _ in range(200):
        left = [pid for pid in tree if running(pid)]
        if not left:
            break
        time.sleep(0.05)
    return left


def running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_for(condition: Any, timeout: float = 60) -> bool:
    """Poll `condition` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
