"""Seed 100 000 returns with plausible status histories into PostgreSQL and time the report.

Usage (on a database you can wipe; it TRUNCATEs the service's tables):

    .venv/bin/python bench/report_100k.py --database-url postgresql://postgres@127.0.0.1:5432/db \\
        --reset [--returns 100000] [--runs 5]      (then --reuse instead of --reset to re-time)

Rows go in with COPY. Histories span one year before 2026-03-02 00:00 UTC: auto-approved,
staff-approved or rejected after a log-normal delay, cancelled, expired, received and
refunded (sometimes after a failed attempt), closed, or still open. The script prints and
writes bench/results/report_100k.json: seed time, then report timings (min / median of runs)
for the whole year and for the last 28 days.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

END = datetime(2026, 3, 2, tzinfo=UTC)
START = END - timedelta(days=365)
CHANNELS = (("web", 55), ("api", 20), ("email", 10), ("phone", 10), ("chat", 5))
REASONS = (("doesnt_fit", 40), ("changed_mind", 20), ("not_as_described", 12),
           ("damaged", 10), ("defective", 8), ("wrong_item", 6), ("other", 4))
CURRENCIES = (("EUR", 70), ("USD", 20), ("GBP", 10))
TABLES = ("feedback_answers", "feedback", "refunds", "return_events", "return_items", "returns",
          "order_lines", "orders")


def pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def hours(rng: random.Random, median: float, spread: float = 0.9) -> timedelta:
    """A log-normal delay: most near `median` hours, a long tail (as real queues have)."""
    return timedelta(hours=rng.lognormvariate(0, spread) * median)


class Seeder:
    """Builds the rows in memory, table by table, with explicit ids."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
        self.event_id = self.line_id = self.item_id = self.refund_id = self.feedback_id = 0

    def event(self, rid: int, at: datetime, src: str | None, dst: str, trigger: str,
              actor: str) -> None:
        self.event_id += 1
        self.rows["return_events"].append(
            (self.event_id, rid, "status", src, dst, trigger, actor, None,
             "bench" if actor != "customer" else "customer@example.com", None, None, True, at))

    def add_return(self, rid: int) -> None:
        rng = self.rng
        requested = START + timedelta(seconds=rng.uniform(0, 365 * 86400))
        currency = pick(rng, CURRENCIES)
        channel = pick(rng, CHANNELS)
        placed = requested - timedelta(days=rng.uniform(4, 25))
        self.rows["orders"].append(
            (rid, f"B{rid:07d}", f"c{rid}@example.com", "Bench Customer", currency, placed,
             placed + timedelta(days=3), "web", 495, "stripe", f"pi_bench_{rid}", placed, placed))
        lines = []
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
            self.line_id += 1
            sku = f"SKU-{int(rng.paretovariate(1.2)) % 800:04d}"
            price = rng.choice((1500, 2500, 3999, 5900, 8000, 12900))
            if sku in {line[2] for line in lines}:
                continue
            lines.append((self.line_id, rid, sku, sku.title(), 2, price, False))
        self.rows["order_lines"].extend(lines)
        refund_amount = 0
        for line in lines:
            self.item_id += 1
            quantity = rng.choice((1, 1, 1, 2))
            refund_amount += line[5] * quantity
            self.rows["return_items"].append(
                (self.item_id, rid, line[0], quantity, pick(rng, REASONS), None))
        status, at = self.history(rid, requested, refund_amount, currency)
        self.rows["returns"].append(
            (rid, f"R-B{rid:06d}", rid, channel, status, 1, requested, at, at, False,
             refund_amount if status in ("refund_pending", "refunded", "refund_failed")
             else None))

    def history(self, rid: int, t: datetime, amount: int, currency: str) -> tuple[str, datetime]:
        """Append the status events up to END; return the status and time of the last one."""
        rng, state = self.rng, "requested"
        self.event(rid, t, None, "requested", "request", "customer")
        last = t

        def step(delay: timedelta, dst: str, trigger: str, actor: str) -> bool:
            nonlocal t, state, last
            if t + delay >= END:
                return False
            t += delay
            self.event(rid, t, state, dst, trigger, actor)
            state, last = dst, t
            return True

        roll = rng.random()
        if roll < 0.20:
            step(timedelta(0), "approved", "approve", "system")
        elif roll < 0.88:
            if not step(hours(rng, 7), "approved", "approve", "staff"):
                return state, last
        elif roll < 0.96:
            step(hours(rng, 10), "rejected", "reject", "staff")
            return state, last
        else:
            step(hours(rng, 20), "cancelled", "cancel", "customer")
            return state, last
        if state != "approved":
            return state, last
        roll = rng.random()
        if roll < 0.05:
            step(timedelta(days=30), "expired", "expire", "system")
            return state, last
        if roll < 0.09:
            step(hours(rng, 48), "cancelled", "cancel", "customer")
            return state, last
        if not step(hours(rng, 5 * 24, 0.5), "received", "receive", "staff"):
            return state, last
        if rng.random() < 0.04:
            step(timedelta(minutes=5), "closed", "close", "staff")
            return state, last
        step(timedelta(seconds=1), "refund_pending", "start_refund", "staff")
        attempt = 1
        if rng.random() < 0.03 and step(hours(rng, 2), "refund_failed", "refund_failed", "stripe"):
            self.refund(rid, attempt, amount, currency, "failed", t, None)
            attempt += 1
            if not step(hours(rng, 24), "refund_pending", "retry_refund", "staff"):
                return state, last
        if step(hours(rng, 6), "refunded", "refund_succeeded", "stripe"):
            self.refund(rid, attempt, amount, currency, "succeeded", t, t)
            if rng.random() < 0.3:
                self.feedback(rid, t + hours(rng, 24))
        else:
            self.refund(rid, attempt, amount, currency, "pending", t, None)
        return state, last

    def refund(self, rid: int, attempt: int, amount: int, currency: str, status: str,
               at: datetime, succeeded: datetime | None) -> None:
        self.refund_id += 1
        self.rows["refunds"].append(
            (self.refund_id, rid, attempt, amount, currency, status, "service",
             f"refund-bench-{rid}-{attempt}", "stripe", at, at, succeeded))

    def feedback(self, rid: int, at: datetime) -> None:
        if at >= END:
            return
        self.feedback_id += 1
        rating = self.rng.choices((1, 2, 3, 4, 5), (5, 7, 13, 35, 40))[0]
        nps = None if self.rng.random() < 0.2 else min(10, max(0, rating * 2 + self.rng.choice(
            (-2, -1, 0, 0, 1))))
        self.rows["feedback"].append((self.feedback_id, rid, rating, nps, "email", at, at))
        self.rows["feedback_answers"].append((self.feedback_id, rid, rating, nps, "email", at))


COLUMNS = {
    "orders": "id, number, email, customer_name, currency, placed_at, delivered_at, channel, "
              "shipping_total, payment_provider, payment_intent, created_at, updated_at",
    "order_lines": "id, order_id, sku, name, quantity, unit_price, final_sale",
    "returns": "id, rma, order_id, channel, status, version, created_at, updated_at, "
               "status_changed_at, needs_review, refund_amount",
    "return_items": "id, return_id, order_line_id, quantity, reason, comment",
    "return_events": "id, return_id, kind, from_status, to_status, trigger, actor_type, "
                     "actor_id, actor_label, note, data, customer_visible, created_at",
    "refunds": "id, return_id, attempt, amount, currency, status, origin, idempotency_key, "
               "provider, created_at, updated_at, succeeded_at",
    "feedback": "id, return_id, rating, nps, source, created_at, updated_at",
    "feedback_answers": "id, return_id, rating, nps, source, created_at",
}


def seed(db: Any, count: int, seed_value: int) -> dict[str, int]:
    seeder = Seeder(random.Random(seed_value))
    for rid in range(1, count + 1):
        seeder.add_return(rid)
    raw = db.engine.raw_connection()
    try:
        conn = raw.driver_connection
        with conn.cursor() as cur:
            cur.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
            for table in reversed(TABLES):
                with cur.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                    for row in seeder.rows[table]:
                        copy.write_row(row)
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 1) FROM {table}))")
        conn.commit()
        with conn.cursor() as cur:
            conn.autocommit = True
            cur.execute("VACUUM ANALYZE")
    finally:
        raw.close()
    return {table: len(rows) for table, rows in seeder.rows.items()}


def timed(fn: Any, runs: int) -> dict[str, float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - started)
    return {"min_ms": round(min(seconds) * 1000, 1),
            "median_ms": round(statistics.median(seconds) * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/returns")
    parser.add_argument("--returns", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reset", action="store_true", help="TRUNCATE and reseed")
    parser.add_argument("--reuse", action="store_true",
                        help="time the report on rows seeded by an earlier --reset run")
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" /
                                                "report_100k.json"))
    args = parser.parse_args()
    if not args.database_url.startswith("postgres") or args.reset == args.reuse:
        parser.error("needs a PostgreSQL --database-url and one of --reset (the tables are "
                     "wiped and reseeded) or --reuse")

    from flask_migrate import upgrade

    from returns_service import create_app
    from returns_service.db import db
    from returns_service.reports.schemas import ServiceReportOut
    from returns_service.reports.services import service_report

    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": "bench",
                      "LOG_LEVEL": "WARNING"})
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        if args.reset:
            counts = seed(db, args.returns, args.seed)
        else:
            counts = {t: db.session.scalar(db.text(f"SELECT count(*) FROM {t}")) for t in TABLES}
        seed_seconds = round(time.perf_counter() - started, 1) if args.reset else None

        def year() -> dict[str, Any]:
            return ServiceReportOut().dump(service_report(START, END, now=END))

        def month() -> dict[str, Any]:
            return ServiceReportOut().dump(
                service_report(END - timedelta(days=28), END, now=END))

        year()  # warm caches and plans once
        result = {
            "database": "PostgreSQL " + str(db.session.scalar(db.text("SHOW server_version"))),
            "rows": counts, "seed_seconds": seed_seconds, "runs": args.runs,
            "report_365_days": timed(year, args.runs),
            "report_28_days": timed(month, args.runs),
        }
        sample = year()
        result["sample"] = {"requested": sample["volume"]["requested"],
                            "first_response_staff": sample["first_response"]["staff"],
                            "resolution": sample["resolution"],
                            "backlog_total": sample["backlog"]["total"]}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
