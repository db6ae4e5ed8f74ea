"""An S3-compatible server in tests: moto in server mode, as its own process on a free
loopback port, for the session."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.stripe import free_port, wait_for_port


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint URL of a running moto server (any credentials are accepted)."""
    log = tmp_path_factory.mktemp("moto") / "log"
    for _ in range(3):
        port = free_port()
        with log.open("ab") as out:
            process = subprocess.Popen(
                [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1",
                 "-p", str(port)], stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            try:
                wait_for_port(port, timeout=1)
                break
            except RuntimeError:
                continue
        if process.poll() is None:
            break
    else:
        raise RuntimeError(f"moto did not start: {log.read_text()[-2000:]}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
