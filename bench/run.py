"""One command for every benchmark: `python -m bench [--duration 15] [--only create_return]`.

Builds (or reuses) the benchmark database with `--history` returns, starts the service and
the baseline app under gunicorn (2 x cores workers each), runs the scenarios from a second
process, prints a table and writes bench/results/<UTC timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from datetime import UTC, datetime
from typing import Any

from bench.pipeline import localstripe
from bench.scenarios import SCENARIOS, Context
from bench.seed import ensure_database, history_size, seed_history
from bench.servers import ROOT, Server

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/bench_run"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
WEBHOOK_SECRET = "whsec_bench_only"


def prepare_database(url: str, history: int, reseed: bool) -> dict[str, Any]:
    """Schema from the migrations (+ any index the models declare), history, staff tokens."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from returns_service import create_app
    from returns_service.db import db
    from returns_service.staff import services as staff

    info: dict[str, Any] = {"database_created": ensure_database(url)}
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "REDIS_URL": None,
                      "LOG_LEVEL": "WARNING"})
    with app.app_context():
        have = 0
        if not reseed:
            try:
                have = history_size(url)
            except Exception:
                have = 0
        if reseed or have != history:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            upgrade()
            started = time.perf_counter()
            info["seeded"] = seed_history(url, history)
            info["seed_seconds"] = round(time.perf_counter() - started, 1)
        else:
            upgrade()
        info["indexes_added"] = sync_indexes()
        # Fresh planner statistics, as autovacuum keeps them in production (this machine's
        # PostgreSQL runs with autovacuum off): earlier runs add thousands of refunds, outbox
        # messages and notifications, and stale row estimates pick poor plans.
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        tokens = {}
        for role in ("agent", "warehouse", "admin", "integration"):
            from sqlalchemy import select

            from returns_service.staff.models import StaffUser
            user = db.session.scalar(select(StaffUser).where(
                StaffUser.email == f"bench-{role}@example.com")) or staff.create_user(
                f"bench-{role}@example.com", role)
            tokens[role] = staff.mint_token(user, "bench")
        db.session.commit()
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM orders o WHERE o.number LIKE 'B%' AND NOT EXISTS "
                              "(SELECT 1 FROM returns r WHERE r.order_id = o.id)"))
            info["fresh_start"] = int(conn.execute(text(
                "SELECT coalesce(max(substr(number, 2)::int), 0) + 1 FROM orders "
                "WHERE number LIKE 'B%'")).scalar_one())
        db.engine.dispose()
    info["tokens"] = tokens
    return info


def sync_indexes() -> list[str]:
    """Create indexes the models declare that this (already migrated) database lacks."""
    from sqlalchemy import inspect

    from returns_service.db import db

    added = []
    inspector = inspect(db.engine)
    for table in db.metadata.sorted_tables:
        existing = {ix["name"] for ix in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in existing:
                index.create(db.engine)
                added.append(str(index.name))
    return added


def fmt_row(cells: list[Any], widths: list[int]) -> str:
    return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"


def table(results: dict[str, Any]) -> str:
    rows: list[list[Any]] = [["scenario", "figure", "target", "met"]]
    for name, r in results["scenarios"].items():
        if r.get("available") is False:
            rows.append([name, f"not available ({r['why']})", "", ""])
        elif name == "create_return":
            s, b = r["service"], r["baseline"]
            rows.append([name, f"{s['throughput_rps']}/s p50 {s['p50_ms']} ms p99 {s['p99_ms']} "
                         f"ms; baseline {b['throughput_rps']}/s; ratio {r['ratio']} (by round "
                         f"{', '.join(str(x) for x in r.get('ratio_by_round', []))}); CPU/request "
                         f"{s.get('cpu_ms_per_request')} vs {b.get('cpu_ms_per_request')} ms",
                         r["target"], r["met"]])
        elif name == "staff_list":
            for q, s in r["queries"].items():
                rows.append([f"{name}: {q}", f"p50 {s['p50_ms']} ms p95 {s['p95_ms']} ms "
                             f"({s['requests']} req)", "p95 < 50 ms", s["p95_ms"] < 50])
        elif name == "webhook_ingest":
            s, b, f = r["saturation"], r["baseline"], r["fixed_100_per_s"]
            rows.append([name, f"{s['throughput_rps']}/s; baseline {b['throughput_rps']}/s; "
                         f"ratio {r['ratio']} (by round "
                         f"{', '.join(str(x) for x in r['ratio_by_round'])}); at 100/s p99 "
                         f"{f['p99_ms']} ms (baseline at 100/s: p99 "
                         f"{r['baseline_fixed_100_per_s']['p99_ms']} ms)", r["target"], r["met"]])
        elif name == "pipeline":
            rows.append([name, r.get("summary", ""), r.get("target", ""), r.get("met")])
        elif name == "queries_per_request":
            for q in r["rows"]:
                rows.append([f"SQL/request: {q['endpoint']}", f"{q['queries']} queries "
                             f"({q['results']} results)", "flat", ""])
        else:
            rows.append([name, json.dumps(r)[:80], "", ""])
    rss = results.get("worker_rss_mib", {})
    for server, values in rss.items():
        rows.append([f"memory: {server} workers", f"{values} MiB RSS", "", ""])
    widths = [max(len(str(row[i])) for row in rows) for i in range(4)]
    lines = [fmt_row(rows[0], widths), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += [fmt_row(row, widths) for row in rows[1:]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--duration", type=float, default=15, help="seconds per load phase")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--history", type=int, default=1_000_000, help="returns in the DB")
    parser.add_argument("--reseed", action="store_true", help="rebuild the database")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per gunicorn worker, the same for service and baseline")
    parser.add_argument("--only", nargs="*", choices=list(SCENARIOS), default=None)
    parser.add_argument("--label", default="", help="note stored with the results")
    args = parser.parse_args(argv)

    database_url = os.environ.get("DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS)
    print(f"Preparing {database_url} ({args.history} returns)…", flush=True)
    info = prepare_database(database_url, args.history, args.reseed)
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "bench",
           "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "LOG_LEVEL": "WARNING",
           "RATELIMIT_ENABLED": "0"}
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"), "label": args.label,
        "command": "python -m bench " + " ".join(argv or []),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "workers": args.workers, "threads": args.threads,
                    "load_before": os.getloadavg()},
        "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip(),
        "database": {k: v for k, v in info.items() if k != "tokens"},
        "settings": {"duration": args.duration, "concurrency": args.concurrency,
                     "history": args.history}, "scenarios": {}}
    with localstripe() as stripe_env:
        run_scenarios(args, info, env, stripe_env, results)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = ROOT / "bench" / "results" / f"{stamp}.json"
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(table(results))
    print(f"\nWritten {out.relative_to(ROOT)}")
    return 0


def run_scenarios(args: argparse.Namespace, info: dict[str, Any], env: dict[str, str],
                  stripe_env: dict[str, str], results: dict[str, Any]) -> None:
    database_url, redis_url = env["DATABASE_URL"], env["REDIS_URL"]
    env = {**env, **stripe_env}
    service = Server("service", "wsgi:app", 8701, args.workers, env, "/healthz",
                     args.threads)
    baseline = Server("baseline", "bench.baseline_app:app", 8702, args.workers, env, "/insert",
                      args.threads)
    with service, baseline:
        ctx = Context(database_url=database_url, service_url=service.url,
                      baseline_url=baseline.url, tokens=info["tokens"],
                      duration=args.duration, concurrency=args.concurrency,
                      webhook_secret=WEBHOOK_SECRET, fresh_start=info["fresh_start"],
                      results=results["scenarios"], redis_url=redis_url,
                      stripe_env=stripe_env)
        for name, scenario in SCENARIOS.items():
            if args.only and name not in args.only:
                continue
            print(f"Running {name}…", flush=True)
            try:
                results["scenarios"][name] = scenario(ctx)
            except Exception as exc:  # keep the other scenarios' figures
                results["scenarios"][name] = {"available": False,
                                              "why": f"failed: {type(exc).__name__}: {exc}"}
        results["worker_rss_mib"] = {"service": service.worker_rss_mib(),
                                     "baseline": baseline.worker_rss_mib()}
