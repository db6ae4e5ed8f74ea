"""Pipeline benchmark: returns driven requested → refunded through the real job path.

Customer request, agent approval and warehouse receipt go over HTTP to the gunicorn service;
the refund job goes through the outbox to RQ, where 2 `flask worker` processes call
localstripe (a local fake Stripe); the clock starts once both workers listen. The figure
is returns per second that got all the way through: refunded, and every email to the
customer sent (or skipped as superseded, as "we got your request" is once the return is
approved). Returns refunded per second, not waiting for the last emails, is kept beside
it. With them: the database transactions each return costs (transaction ids handed out;
pg_stat_database's commits, which also count the pool's connection checks, beside them),
its outbox messages and the CPU, split by process. Then "quick refunds": returns driven open
loop at half the peak rate, and how soon the refund reaches the Stripe fake after the
receipt, and the approval email the SMTP server after the approval (p50/p99).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

from bench.cpu import busy_seconds, cpu_by_group, group_ms_per_item
from bench.seed import pg_url, seed_fresh_orders
from bench.servers import smtp_sink

ROOT = Path(__file__).resolve().parent.parent
STRIPE_PORT = 8492
STRIPE_KEY = "sk_test_bench_only"
LOCALSTRIPE_IN_MEMORY = ("import sys, localstripe.resources as r; "
                         "r.Store.dump_to_disk = lambda self: None; "
                         "from localstripe.server import start; sys.argv[0] = 'localstripe'; "
                         "sys.exit(start())")


@contextmanager
def localstripe(port: int = STRIPE_PORT) -> Iterator[dict[str, str]]:
    """A localstripe server for the run; yields the service settings pointing at it."""
    try:
        import localstripe  # noqa: F401
    except ImportError:
        yield {}
        return
    log = (ROOT / "bench" / "results" / "localstripe.log.tmp").open("wb")
    # In memory only: localstripe's own persistence is one fixed /tmp file for every instance.
    proc = subprocess.Popen([sys.executable, "-c", LOCALSTRIPE_IN_MEMORY, "--from-scratch",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        import stripe

        client = stripe.StripeClient(STRIPE_KEY, base_addresses={
            "api": f"http://127.0.0.1:{port}"}, max_network_retries=0)
        for _ in range(100):
            try:
                client.v1.customers.list()
                break
            except stripe.APIConnectionError:
                time.sleep(0.2)
        yield {"STRIPE_API_KEY": STRIPE_KEY,
               "STRIPE_API_BASE": f"http://127.0.0.1:{port}"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def payment_intents(count: int, port: int = STRIPE_PORT) -> list[str]:
    """`count` confirmed payments of €47.00 at the localstripe on `port`."""
    import stripe

    client = stripe.StripeClient(STRIPE_KEY, base_addresses={
        "api": f"http://127.0.0.1:{port}"})
    pm = client.v1.payment_methods.create(params={"type": "card", "card": {
        "number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    return [client.v1.payment_intents.create(params={
        "amount": 4700, "currency": "eur", "payment_method": pm.id, "confirm": True}).id
        for _ in range(count)]


async def _one_return(session: aiohttp.ClientSession, tokens: dict[str, str],
                      number: str) -> str:
    """Request, approve and receive one return; its RMA."""
    async with session.post("/api/v1/returns", json={
            "order_number": number, "email": "bench@example.com",
            "items": [{"sku": "SKU-1", "quantity": 1, "reason": "damaged"}]}) as r:
        body = await r.json()
        assert r.status == 201, body
        rma = str(body["rma"])
    async with session.post(f"/api/v1/returns/{rma}/approve", json={}, headers={
            "Authorization": f"Bearer {tokens['agent']}"}) as r:
        assert r.status == 200, await r.text()
    async with session.post(f"/api/v1/returns/{rma}/receive", json={"items": [
            {"sku": "SKU-1", "quantity": 1, "condition": "damaged"}]}, headers={
            "Authorization": f"Bearer {tokens['warehouse']}"}) as r:
        assert r.status == 200, await r.text()
    return rma


async def _drive(base: str, tokens: dict[str, str], numbers: list[str],
                 concurrency: int) -> list[str]:
    """Closed loop: `concurrency` clients, each taking the next return as soon as its last
    one is received."""
    rmas: list[str] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for n in numbers:
        queue.put_nowait(n)

    async def flow(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            rmas.append(await _one_return(session, tokens, queue.get_nowait()))

    async with aiohttp.ClientSession(base) as session:
        await asyncio.gather(*(flow(session) for _ in range(concurrency)))
    return rmas


async def _drive_at_rate(base: str, tokens: dict[str, str], numbers: list[str],
                         rate: float) -> list[str]:
    """Open loop: a new return every 1/`rate` seconds, whatever the service's pace."""
    async with aiohttp.ClientSession(base) as session:
        started = []
        t0 = time.perf_counter()
        for k, number in enumerate(numbers):
            started.append(asyncio.ensure_future(_one_return(session, tokens, number)))
            await asyncio.sleep(max(0.0, (k + 1) / rate - (time.perf_counter() - t0)))
        return list(await asyncio.gather(*started))


# "Quick refunds", from the database of the returns driven: the refund's row is written in
# the receipt's transaction (created_at, a few ms before its commit) and its outcome once
# localstripe has answered (succeeded_at); the approval email's row is written in the
# approval's transaction and marked sent once the SMTP server accepted it (sent_at).
_LATENCIES = """
SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM
           f.succeeded_at - f.created_at)),
       (SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM
           n.sent_at - n.created_at))
        FROM notifications n JOIN returns r2 ON r2.id = n.return_id
        WHERE r2.rma = ANY(%(rmas)s) AND n.step = 'approved' AND n.sent_at IS NOT NULL),
       count(f.succeeded_at)
FROM refunds f JOIN returns r ON r.id = f.return_id
WHERE r.rma = ANY(%(rmas)s) AND f.succeeded_at IS NOT NULL
"""


# Of the run's returns: how many are refunded, and how many of their emails are still to go,
# waiting or being sent right now (a superseded one, e.g. "we got your request" once it is
# approved, is skipped, not sent).
_PROGRESS = ("SELECT (SELECT count(*) FROM returns WHERE rma = ANY(%s) AND status = "
             "'refunded'), (SELECT count(*) FROM notifications n JOIN returns r ON "
             "r.id = n.return_id WHERE r.rma = ANY(%s) AND n.status IN ('pending', 'sending'))")


def _commits(conn: psycopg.Connection[Any]) -> int:
    """Commits in this database so far. Besides transactions, this counts every statement
    run outside one, which PostgreSQL counts as a transaction of its own (not the empty
    query that checks a connection the pool hands out, see returns_service.db.liveness)."""
    conn.execute("SELECT pg_stat_clear_snapshot()")
    row = conn.execute("SELECT xact_commit FROM pg_stat_database "
                       "WHERE datname = current_database()").fetchone()
    return int(row[0]) if row else 0


def _next_xid(conn: psycopg.Connection[Any]) -> int:
    """The next transaction id PostgreSQL will hand out (reading it takes none): the
    difference over a run is the number of transactions that wrote something, on the whole
    server, so nothing else may write during a run."""
    row = conn.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
    return int(row.fetchone()[0])


SMTP_SINK_PORT = 8495


def _queue(ctx: Any) -> Any:
    from redis import Redis
    from rq import Queue

    from returns_service.config import DEFAULTS  # the queue the service's workers listen on

    return Queue(DEFAULTS["RQ_QUEUE"], connection=Redis.from_url(ctx.redis_url))


def _worker_names(queue: Any) -> set[str]:
    from rq import Worker

    return {w.name for w in Worker.all(connection=queue.connection, queue=queue)}


def _wait_for_workers(queue: Any, known: set[str], count: int, procs: list[Any]) -> None:
    """Until `count` workers not in `known` listen on the queue: the clock starts with the
    workers ready, as in production, where a worker's start (about 1.6 s of CPU importing the
    app) is paid once, not per return."""
    deadline = time.monotonic() + 60
    while len(_worker_names(queue) - known) < count:
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise RuntimeError("the RQ workers did not start; see bench/results/workers.log.tmp")
        time.sleep(0.1)


def _drop_leftover_jobs(ctx: Any) -> None:
    """Start from an empty queue: earlier scenarios (webhook ingest) leave thousands of jobs
    that would otherwise be measured here. Benchmark database only."""
    from returns_service.outbox.relay import due_keys

    queue = _queue(ctx)
    queue.empty()
    queue.connection.delete(*due_keys(queue.name))  # the due list and its job's flag
    with psycopg.connect(pg_url(ctx.database_url), autocommit=True) as conn:
        conn.execute("UPDATE outbox_messages SET processed_at = now() "
                     "WHERE processed_at IS NULL")


def _wait_until_through(conn: psycopg.Connection[Any], rmas: list[str],
                        seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, unsent = conn.execute(_PROGRESS, (rmas, rmas)).fetchone()
        if done == len(rmas) and unsent == 0:
            return True
        time.sleep(0.1)
    return False


def _quick_refunds(ctx: Any, conn: psycopg.Connection[Any], numbers: list[str],
                   rate: float) -> dict[str, Any]:
    """Returns driven open loop at `rate`/s: how soon after the receipt's commit the refund
    is made at the Stripe fake, and after the approval the email accepted by SMTP."""
    rmas = asyncio.run(_drive_at_rate(ctx.service_url, ctx.tokens, numbers, rate))
    through = _wait_until_through(conn, rmas)
    (refund_p50, refund_p99), (email_p50, email_p99), refunds = conn.execute(
        _LATENCIES, {"rmas": rmas}).fetchone()

    def ms(seconds: float | None) -> float | None:
        return None if seconds is None else round(1000 * float(seconds), 1)

    figures = {"rate_per_s": round(rate, 1), "returns": len(rmas), "refunds": refunds,
               "all_through": through,
               "refund_after_receipt_ms": {"p50": ms(refund_p50), "p99": ms(refund_p99)},
               "approval_email_after_approval_ms": {"p50": ms(email_p50),
                                                    "p99": ms(email_p99)}}
    worst = max(figures["refund_after_receipt_ms"]["p99"] or 1e9,
                figures["approval_email_after_approval_ms"]["p99"] or 1e9)
    figures.update(target="p99 < 2000 ms", met=through and worst < 2000)
    return figures


def run_pipeline(ctx: Any) -> dict[str, Any]:
    count = max(50, int(ctx.duration * 20))
    quick = max(40, count // 2)  # returns driven at half the peak rate afterwards
    intents = payment_intents(count + quick)
    start = ctx.fresh_start
    seed_fresh_orders(ctx.database_url, count + quick, start, payment_intents=intents)
    ctx.fresh_start += count + quick
    numbers = [f"B{start + k:07d}" for k in range(count)]
    quick_numbers = [f"B{start + count + k:07d}" for k in range(quick)]
    _drop_leftover_jobs(ctx)
    env = {**os.environ, "DATABASE_URL": ctx.database_url, "REDIS_URL": ctx.redis_url,
           "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING", "SMTP_URL": f"smtp://127.0.0.1:{SMTP_SINK_PORT}",
           **ctx.stripe_env}
    flask = str(Path(sys.executable).with_name("flask"))
    log = (ROOT / "bench" / "results" / "workers.log.tmp").open("wb")
    sink = smtp_sink(SMTP_SINK_PORT, log)
    queue = _queue(ctx)
    known = _worker_names(queue)
    workers = [subprocess.Popen([flask, "--app", "wsgi", "worker", "--without-scheduler"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
               for _ in range(2)]
    workers.append(sink)
    try:
        _wait_for_workers(queue, known, 2, workers)
        with psycopg.connect(pg_url(ctx.database_url), autocommit=True) as conn:
            commits_before, xid_before = _commits(conn), _next_xid(conn)
            outbox_before = conn.execute("SELECT count(*) FROM outbox_messages").fetchone()[0]
            t0, cpu0, groups0 = time.perf_counter(), busy_seconds(), cpu_by_group()
            rmas = asyncio.run(_drive(ctx.service_url, ctx.tokens, numbers, 16))
            requested_s = time.perf_counter() - t0
            deadline = time.monotonic() + 120
            done, refunded_s = 0, None
            while time.monotonic() < deadline:
                done, unsent = conn.execute(_PROGRESS, (rmas, rmas)).fetchone()
                if done == len(rmas) and refunded_s is None:
                    refunded_s = time.perf_counter() - t0
                if done == len(rmas) and unsent == 0:
                    break
                time.sleep(0.1)
            else:
                done = 0  # not every return got through, emails included, in time
            elapsed, cpu1 = time.perf_counter() - t0, busy_seconds()
            by_group = group_ms_per_item(groups0, cpu_by_group(), done)
            commits = _commits(conn) - commits_before
            writes = _next_xid(conn) - xid_before
            jobs = conn.execute("SELECT count(*) FROM outbox_messages").fetchone()[0] \
                - outbox_before
            emails = conn.execute(
                "SELECT count(*) FROM notifications n JOIN returns r ON r.id = n.return_id "
                "WHERE r.rma = ANY(%s) AND n.status = 'sent'", (rmas,)).fetchone()[0]
            peak = done / elapsed if elapsed and done else len(rmas) / max(requested_s, 1)
            quick_refunds = _quick_refunds(ctx, conn, quick_numbers, peak / 2)
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            try:
                w.wait(timeout=20)
            except subprocess.TimeoutExpired:  # an RQ worker can hang closing its pubsub
                w.kill()
                w.wait(timeout=10)
        log.close()
    rate = round(done / elapsed, 1) if elapsed else 0
    refunded_rate = round(len(rmas) / refunded_s, 1) if refunded_s else 0
    cpu_ms = round(1000 * (cpu1 - cpu0) / max(done, 1), 1) if cpu0 and cpu1 else None
    return {"returns": len(rmas), "completed": done, "seconds": round(elapsed, 2),
            "http_phase_seconds": round(requested_s, 2), "completed_per_s": rate,
            "refunded_per_s": refunded_rate,
            "write_transactions_per_return": round(writes / max(done, 1), 1),
            "commits_per_return": round(commits / max(done, 1), 1),
            "jobs_per_return": round(jobs / max(len(rmas), 1), 2),
            "emails": emails, "cpu_ms_per_return": cpu_ms,
            "cpu_ms_per_return_by_process": by_group,
            "quick_refunds": quick_refunds,
            "target": ">= 30 returns/s", "met": rate >= 30,
            "summary": f"{rate} returns/s refunded with every email sent ({done}/{len(rmas)}"
                       f"; refunded alone {refunded_rate}/s), {cpu_ms} ms CPU, "
                       f"{round(writes / max(done, 1), 1)} write transactions "
                       f"({round(commits / max(done, 1), 1)} commits, read-only ones included) and "
                       f"{round(jobs / max(len(rmas), 1), 2)} jobs per return, {emails} emails;"
                       f" at {quick_refunds['rate_per_s']}/s refund after receipt p50/p99 "
                       f"{quick_refunds['refund_after_receipt_ms']['p50']}/"
                       f"{quick_refunds['refund_after_receipt_ms']['p99']} ms, approval email "
                       f"{quick_refunds['approval_email_after_approval_ms']['p50']}/"
                       f"{quick_refunds['approval_email_after_approval_ms']['p99']} ms"}
