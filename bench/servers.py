"""Start and stop gunicorn-served apps for a benchmark, and read their workers' memory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent


class Server:
    """`gunicorn -w <workers> [--threads <threads>] <module>:app` on 127.0.0.1:<port>, with
    its own environment. More than one thread makes gunicorn use its gthread worker."""

    def __init__(self, name: str, app: str, port: int, workers: int, env: dict[str, str],
                 health: str, threads: int = 1):
        self.name, self.app, self.port, self.workers = name, app, port, workers
        self.threads = threads
        self.env, self.health = env, health
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = ROOT / "bench" / "results" / f"{name}.log.tmp"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.proc = subprocess.Popen(
            [gunicorn, "-w", str(self.workers), "--threads", str(self.threads),
             "-b", f"127.0.0.1:{self.port}", "--backlog", "2048", "--log-level", "warning",
             self.app],
            cwd=ROOT, env={**os.environ, **self.env}, stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + self.health, timeout=2):
                    return self
            except OSError as exc:
                if getattr(exc, "code", None) in (404, 405):
                    return self
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited: {self.log.read_text()}") from exc
                time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not start; see {self.log}")

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def worker_rss_mib(self) -> list[float]:
        """Resident memory of each gunicorn worker (children of the master), from /proc."""
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        result = []
        for pid in children.split():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    result.append(round(int(line.split()[1]) / 1024, 1))
        return result


def smtp_sink(port: int, log: IO[bytes] | None = None) -> subprocess.Popen[bytes]:
    """An aiosmtpd server on 127.0.0.1:`port` that accepts and drops every email, returned
    once it answers; the caller terminates it."""
    sink = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                             "-c", "aiosmtpd.handlers.Sink"], stdout=log,
                            stderr=subprocess.STDOUT if log else None)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return sink
        except OSError:
            time.sleep(0.1)
    sink.terminate()
    raise RuntimeError(f"the SMTP sink on port {port} did not start")
