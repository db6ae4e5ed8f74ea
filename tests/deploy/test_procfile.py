"""The Procfile as production runs it (gunicorn, an RQ worker, the scheduler) under honcho,
on PostgreSQL and Redis, with Stripe (localstripe) and SMTP: one return goes to refunded, a
SIGTERM in the middle stops every process cleanly, and after a restart nothing is lost and
nothing happens twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_REDIS_URL, order_payload
from tests.support.stripe import API_KEY, free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


class Deployment:
    """The service's processes started from the Procfile, and a client for its API."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env, self.log = env, log
        self.base = f"http://127.0.0.1:{env['PORT']}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.tokens: dict[str, str] = {}

    def flask(self, *args: str) -> str:
        done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT,
                              env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([str(BIN / "honcho"), "start", "-f", "Procfile"],
                                         cwd=ROOT, env=self.env, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz/ready", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"not ready: {self.log.read_text()[-3000:]}")

    def stop(self) -> float:
        """SIGTERM to honcho, as systemd or a container runtime sends it: every process
        stops (honcho kills what has not stopped after 5 s) and none is left; how long it
        took."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=90)
        took = time.monotonic() - started
        assert code == 128 + signal.SIGTERM  # honcho's answer to a SIGTERM it was sent
        try:  # every process honcho started is gone: none left in its session
            os.killpg(self.proc.pid, 0)
            left = True
        except ProcessLookupError:
            left = False
        assert not left, f"processes left running: {self.log.read_text()[-2000:]}"
        return took

    def call(self, method: str, path: str, role: str | None = None,
             body: dict[str, Any] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.base + path, method=method, data=json.dumps(body or {}).encode(),
            headers={"Content-Type": "application/json",
                     **({"Authorization": f"Bearer {self.tokens[role]}"} if role else {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def deployment(fresh_database: str, localstripe: Any, smtp_server: Any,
               tmp_path: Path) -> Iterator[Deployment]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST"))}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", DATABASE_URL=fresh_database,
        REDIS_URL=TEST_REDIS_URL or "", RQ_QUEUE=f"procfile-{uuid.uuid4().hex[:8]}",
        SECRET_KEY="procfile-test-secret", HOST="127.0.0.1", PORT=str(free_port()),
        WEB_CONCURRENCY="2", PUBLIC_BASE_URL="http://returns.test",
        STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=localstripe.url, SMTP_URL=smtp_server.url,
        RETURN_ADDRESS="Returns, 1 Dock Road", LOG_LEVEL="WARNING", RATELIMIT_ENABLED="0",
        PYTHONWARNINGS="ignore", REPLY_DOMAIN="replies.returns.test",
        INBOUND_SMTP_PORT=str(free_port()),
        # honcho kills what has not stopped 5 s after SIGTERM; on a loaded machine that can
        # be a worker inside the Stripe call. Its lease then holds the refund this long
        # before the restarted worker asks Stripe what happened (production keeps 120 s).
        REFUND_SUBMIT_LEASE_SECONDS="10")
    deployment = Deployment(env, tmp_path / "honcho.log")
    deployment.flask("db", "upgrade")
    for role in ("integration", "agent", "warehouse"):
        deployment.flask("users", "create", f"{role}@shop.test", "--role", role,
                         "--password", "a long procfile password")
        deployment.tokens[role] = deployment.flask("tokens", "create", f"{role}@shop.test")
    yield deployment
    if deployment.proc is not None and deployment.proc.poll() is None:
        os.killpg(deployment.proc.pid, signal.SIGKILL)
    from redis import Redis
    from rq import Queue

    Queue(env["RQ_QUEUE"], connection=Redis.from_url(env["REDIS_URL"])).delete(
        delete_jobs=True)


def test_a_return_reaches_refunded_across_a_clean_stop_and_a_restart(
        deployment: Deployment, localstripe: Any, smtp_server: Any) -> None:
    intent = localstripe.paid_payment_intent(10000)
    deployment.start()
    order = order_payload("P100", payment={"provider": "stripe", "payment_intent": intent})
    assert deployment.call("POST", "/api/v1/orders", "integration", order)[0] == 201
    status, created = deployment.call("POST", "/api/v1/returns", None, {
        "order_number": "P100", "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]})
    assert status == 201, created
    rma = created["rma"]
    assert deployment.call("POST", f"/api/v1/returns/{rma}/approve", "agent")[0] == 200
    status, received = deployment.call("POST", f"/api/v1/returns/{rma}/receive", "warehouse",
                                       {"items": [{"sku": "SHIRT", "quantity": 1,
                                                   "condition": "resellable"}]})
    assert status == 200, received
    # Stop at once: the refund job and the emails may be in flight.
    assert deployment.stop() < 15

    deployment.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = deployment.call("GET", f"/api/v1/returns/{rma}", "agent")[1]["status"]
        refunded_email = smtp_server.with_subject("Your refund for return")
        if state == "refunded" and refunded_email:
            break
        time.sleep(0.5)
    assert state == "refunded"
    assert [r["amount"] for r in localstripe.refunds_for(intent)] == [2500]
    subjects = [m["Subject"] for m in smtp_server.messages]
    assert len(subjects) == len(set(subjects)), subjects  # no email went out twice
    for subject in ("is approved", "We received your parcel", "Your refund for return"):
        assert len(smtp_server.with_subject(subject)) == 1, subjects
    # ("We have your request" is skipped when the approval is already out.)
    assert deployment.stop() < 15
