"""CPU instructions per request, counted by valgrind's callgrind: a cost figure that does not
move with what else the machine is doing (throughput on a shared VM moves by ±30 %).

    python -m bench.instructions --database-url postgresql://postgres@127.0.0.1:5432/bench_instr

The database is a scratch one, created when missing; its schema is dropped and rebuilt. The
script re-runs itself under `valgrind --tool=callgrind` with counting off, builds the app
(PostgreSQL, Redis as in production, so jobs are handed to a queue nobody works off), warms
up, and then counts each phase separately: the baseline app's one-INSERT request
(bench/baseline_app.py, as in `python -m bench`), customer requests (POST /returns),
approvals, receipts, the staff list (GET /api/v1/returns, a page of 25 returns), signed
Stripe events taken in (POST /webhooks/stripe, each new, as in `python -m bench`) and email
jobs: the outbox job of each receipt's "we received your parcel" email, run as `flask
worker` runs it (SMTP connection kept) against an SMTP sink in a child process. RQ's own
work around a job is not in that figure. Last, `per_return`: one return's whole cost, its
three requests and every job they cause, RQ's work included (bench/return_cost.py), with
its refunds made at a localstripe in a child process. Only the app's own process is
counted, not PostgreSQL, Redis, localstripe or the SMTP sink. Repeat runs agree within
about 0.5 %.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

INNER = "BENCH_INSTRUCTIONS_INNER"
PHASES = ("baseline", "create", "approve", "receive", "list", "webhook", "email_job",
          "per_return")
SMTP_SINK_PORT = 8497
STRIPE_PORT = 8496  # localstripe, for the per-return phase's refunds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    parser.add_argument("--database-url", required=True, help="a scratch PostgreSQL database")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--requests", type=int, default=50, help="per phase")
    args = parser.parse_args(argv)
    if os.environ.get(INNER):
        _run_phases(args.database_url, args.redis_url, args.requests)
        return 0
    if not shutil.which("valgrind"):
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    out_dir = Path(tempfile.mkdtemp(prefix="bench-instr-"))
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no",
         f"--callgrind-out-file={out_dir}/callgrind.out", sys.executable, "-m",
         "bench.instructions", *(argv if argv is not None else sys.argv[1:])],
        env={**os.environ, INNER: "1"}, capture_output=True, text=True)
    if run.returncode:
        print(run.stderr[-4000:], file=sys.stderr)
        return run.returncode
    per_request = {phase: round(_total(out_dir, phase) / args.requests / 1e6, 2)
                   for phase in PHASES}
    shutil.rmtree(out_dir, ignore_errors=True)
    print(json.dumps({"million_instructions_per_request": per_request,
                      "requests_per_phase": args.requests}, indent=2))
    return 0


def _total(out_dir: Path, phase: str) -> int:
    """The instruction count of the dump taken at the end of `phase`."""
    for dump in out_dir.glob("callgrind.out.*"):
        text = dump.read_text(errors="replace")
        if re.search(rf"^desc: Trigger: dump {phase}-done$", text, re.M):
            match = re.search(r"^summary: (\d+)$", text, re.M)
            if match:
                return int(match.group(1))
    raise RuntimeError(f"no callgrind dump for phase {phase} in {out_dir}")


def _callgrind(*args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(os.getpid())], check=True,
                   capture_output=True)


def _run_phases(database_url: str, redis_url: str, requests: int) -> None:
    from bench.pipeline import localstripe
    from bench.servers import smtp_sink

    sink = smtp_sink(SMTP_SINK_PORT)  # child processes: valgrind does not follow them
    try:
        with localstripe(STRIPE_PORT) as stripe_env:
            if not stripe_env:
                raise RuntimeError("localstripe is not installed (the `bench` extra)")
            _count_phases(database_url, redis_url, requests, stripe_env)
    finally:
        sink.terminate()


def _count_phases(database_url: str, redis_url: str, requests: int,
                  stripe_env: dict[str, str]) -> None:
    from flask_migrate import upgrade
    from redis import Redis
    from rq import Queue
    from sqlalchemy import select, text

    from bench import return_cost
    from bench.driver import request_factory
    from bench.pipeline import payment_intents
    from bench.run import WEBHOOK_SECRET
    from bench.seed import ensure_database, seed_fresh_orders
    from returns_service import create_app
    from returns_service.db import db
    from returns_service.notifications.mailer import keep_connections_open
    from returns_service.notifications.services import dedupe_key
    from returns_service.outbox.models import OutboxMessage
    from returns_service.outbox.relay import due_keys
    from returns_service.staff import services as staff
    from returns_service.worker import run_outbox_batch, set_app

    ensure_database(database_url)
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench",
                      "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                      "SMTP_URL": f"smtp://127.0.0.1:{SMTP_SINK_PORT}",
                      "REDIS_URL": redis_url, "RQ_QUEUE": "bench-instructions",
                      "LOG_LEVEL": "WARNING", "RATELIMIT_ENABLED": False, **stripe_env})
    warm = 20
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        seed_fresh_orders(database_url, warm + requests, 1)
        # The per-return phase's orders, paid at localstripe so that their refunds go through.
        whole = return_cost.WARM + requests
        seed_fresh_orders(database_url, whole, warm + requests + 1,
                          payment_intents=payment_intents(whole, STRIPE_PORT))
        tokens = {role: staff.mint_token(staff.create_user(f"{role}@bench.test", role), "b")
                  for role in ("agent", "warehouse")}
        db.session.commit()
    client = app.test_client()
    os.environ["DATABASE_URL"] = database_url
    from bench.baseline_app import create_app as create_baseline

    baseline = create_baseline().test_client()

    def post(path: str, body: dict[str, Any], role: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
        response = client.post(path, json=body, headers=headers)
        assert response.status_code in (200, 201), response.get_data(as_text=True)
        return response.get_json()

    def create(i: int | str) -> str:
        return str(post("/api/v1/returns", {
            "order_number": i if isinstance(i, str) else f"B{i:07d}",
            "email": "bench@example.com",
            "items": [{"sku": "SKU-1", "quantity": 1, "reason": "damaged"}]})["rma"])

    def approve(rma: str) -> None:
        post(f"/api/v1/returns/{rma}/approve", {}, "agent")

    def receive(rma: str) -> None:
        post(f"/api/v1/returns/{rma}/receive", {"items": [
            {"sku": "SKU-1", "quantity": 1, "condition": "damaged"}]}, "warehouse")

    def insert(n: int) -> None:
        assert baseline.post("/insert", json={"n": n}).status_code == 201

    make_event = request_factory("webhook", {"secret": WEBHOOK_SECRET,
                                             "path": "/webhooks/stripe", "run": "instr"})

    def webhook(n: int) -> None:
        _, path, headers, body = make_event(n)
        assert client.post(path, data=body, headers=headers).status_code == 200

    set_app(app)
    keep_connections_open(True)  # as `flask worker` does

    def email_jobs(returns: list[str]) -> list[int]:
        """The outbox messages of these returns' "received" emails, in their order."""
        keys = [dedupe_key(rma, "received") for rma in returns]
        with app.app_context():
            ids = dict(db.session.execute(select(OutboxMessage.dedupe_key, OutboxMessage.id)
                                          .where(OutboxMessage.dedupe_key.in_(keys))).all())
        return [ids[key] for key in keys]

    def email_job(message_id: int) -> None:
        assert run_outbox_batch([message_id]) == ["sent"]

    warmed = [create(i) for i in range(1, warm + 1)]
    for rma in warmed:  # warm up every path
        approve(rma)
        receive(rma)
        insert(0)
        client.get("/api/v1/returns", headers={"Authorization": f"Bearer {tokens['agent']}"})
    for n, message_id in enumerate(email_jobs(warmed)):
        webhook(n)
        email_job(message_id)
    redis = Redis.from_url(redis_url)

    def empty_queue() -> None:
        """Jobs the request phases queued, which nobody works off: dropped."""
        Queue("bench-instructions", connection=redis).empty()
        redis.delete(*due_keys("bench-instructions"))

    whole_numbers = [f"B{warm + requests + 1 + k:07d}"
                     for k in range(return_cost.WARM + requests)]
    drain: return_cost.Drain | None = None
    _callgrind("--instr=on")
    rmas: list[str] = []
    jobs: list[int] = []
    for phase in PHASES:
        if phase == "email_job":
            jobs = email_jobs(rmas)
        if phase == "per_return":
            empty_queue()
            drain = return_cost.Drain(app)
            warmed = return_cost.run_returns(whole_numbers[:return_cost.WARM], create,
                                             approve, receive, drain)
        _callgrind("--zero")
        for n in range(requests):
            if phase == "baseline":
                insert(n)
            elif phase == "create":
                rmas.append(create(warm + 1 + n))
            elif phase == "approve":
                approve(rmas[n])
            elif phase == "receive":
                receive(rmas[n])
            elif phase == "webhook":
                webhook(warm + n)
            elif phase == "email_job":
                email_job(jobs[n])
            elif phase == "per_return":
                assert drain is not None
                warmed += return_cost.run_returns(
                    [whole_numbers[return_cost.WARM + n]], create, approve, receive, drain)
            else:
                listed = client.get("/api/v1/returns", headers={
                    "Authorization": f"Bearer {tokens['agent']}"})
                assert len(listed.get_json()["items"]) == 25
        _callgrind(f"--dump={phase}-done")
    if drain is not None:
        drain.close()
        return_cost.check_through(app, warmed)
    empty_queue()


if __name__ == "__main__":
    raise SystemExit(main())
