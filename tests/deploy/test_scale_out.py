"""Several hosts, one database and one Redis: bench/scale_out.py runs two web hosts and three
worker hosts in network namespaces of their own (with a PostgreSQL and a Redis it starts on
a services host), kills a worker host mid-run, and checks money and emails from outside."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres  # heavy: runs in CI's PostgreSQL pass only
def test_returns_through_two_web_hosts_are_refunded_once_despite_a_killed_worker_host(
) -> None:
    done = subprocess.run([sys.executable, "-m", "bench.scale_out", "--returns", "24"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["killed_worker_hosts"] == ["worker1"]
    assert report["returns_refunded_exactly_once"] == 24 and not report["not_refunded"]
    assert report["emails_not_sent"] == {} and report["emails_recorded_but_not_received"] == []
    assert report["emails_duplicated"] <= 1
