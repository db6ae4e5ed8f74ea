"""The benchmark scenarios. Add one by writing `def name(ctx) -> dict` and listing it in
SCENARIOS; return {"available": False, "why": ...} when the branch lacks what it needs.

Each scenario gets a Context (servers' URLs, tokens, settings) and returns plain JSON-able
figures; run.py prints the table and writes the JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.cpu import cpu_by_group, cpu_meter, group_ms_per_item, per_item_ms
from bench.driver import stripe_signature
from bench.seed import FRESH_PREFIX, seed_fresh_orders


@dataclass
class Context:
    database_url: str
    service_url: str
    baseline_url: str
    tokens: dict[str, str]
    duration: float
    concurrency: int
    webhook_secret: str
    fresh_start: int = 0
    redis_url: str = ""
    stripe_env: dict[str, str] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)


def drive(config: dict[str, Any]) -> dict[str, Any]:
    """Run the load driver in a second process and return its summary."""
    out = subprocess.run([sys.executable, "-m", "bench.driver", json.dumps(config)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def create_return(ctx: Context) -> dict[str, Any]:
    """POST /api/v1/returns (customer) at `concurrency` clients vs the bare INSERT app."""
    budget = int(ctx.duration * 600)  # more fresh orders than the service can use up
    seed_fresh_orders(ctx.database_url, budget, ctx.fresh_start)
    groups = cpu_by_group()
    with cpu_meter() as service_cpu:
        service = drive({"url": ctx.service_url, "kind": "create", "mode": "closed",
                         "concurrency": ctx.concurrency, "duration": ctx.duration,
                         "max_requests": budget, "params": {
                             "start": ctx.fresh_start, "prefix": FRESH_PREFIX,
                             "email": "bench@example.com"}})
    service["cpu_ms_per_request_by_process"] = group_ms_per_item(
        groups, cpu_by_group(), service["requests"])
    ctx.fresh_start += budget
    with cpu_meter() as baseline_cpu:
        baseline = drive({"url": ctx.baseline_url, "kind": "insert", "mode": "closed",
                          "concurrency": ctx.concurrency, "duration": ctx.duration})
    # Machine CPU (service, database, load driver) per request: steadier than throughput.
    service["cpu_ms_per_request"] = per_item_ms(service_cpu, service["requests"])
    baseline["cpu_ms_per_request"] = per_item_ms(baseline_cpu, baseline["requests"])
    ratio = service["throughput_rps"] / baseline["throughput_rps"]
    return {"service": service, "baseline": baseline, "ratio": round(ratio, 2),
            "target": ">= 0.6", "met": ratio >= 0.6}


LIST_QUERIES = {
    "list page 1": "/api/v1/returns",
    "status=requested": "/api/v1/returns?status=requested",
    "status=approved,received": "/api/v1/returns?status=approved,received",
    "q=email": "/api/v1/returns?q=cust123457@example.com",
    "q=rma": "/api/v1/returns?q=R-H0654321",
    "q=order number": "/api/v1/returns?q=H0333333",
    "channel=phone": "/api/v1/returns?channel=phone",
    "page 200": "/api/v1/returns?page=200",
}


def staff_list(ctx: Context) -> dict[str, Any]:
    """GET /api/v1/returns on the 1 M-return history: p95 per kind of search."""
    rows, worst = {}, 0.0
    auth = {"Authorization": f"Bearer {ctx.tokens['agent']}"}
    for name, path in LIST_QUERIES.items():
        result = drive({"url": ctx.service_url, "kind": "get", "mode": "closed",
                        "concurrency": 2, "duration": max(2.0, ctx.duration / 4),
                        "max_requests": 400, "params": {"paths": [path], "headers": auth}})
        rows[name] = result
        worst = max(worst, result["p95_ms"])
    return {"queries": rows, "worst_p95_ms": worst, "target": "p95 < 50 ms",
            "met": worst < 50}


def _signed_post(url: str, secret: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "Stripe-Signature": stripe_signature(secret, body)})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def webhook_ingest(ctx: Context) -> dict[str, Any]:
    """Signed Stripe events to POST /webhooks/stripe: saturation, and p99 at 100 events/s."""
    probe = json.dumps({"id": "evt_bench_probe", "object": "event", "type": "ping",
                        "data": {"object": {}}}).encode()
    status = _signed_post(ctx.service_url + "/webhooks/stripe", ctx.webhook_secret, probe)
    if status in (404, 405):
        return {"available": False, "why": "POST /webhooks/stripe is not in this build"}
    params = {"secret": ctx.webhook_secret, "path": "/webhooks/stripe"}
    saturated = drive({"url": ctx.service_url, "kind": "webhook", "mode": "closed",
                       "concurrency": ctx.concurrency, "duration": ctx.duration,
                       "params": {**params, "run": 1}})
    fixed = drive({"url": ctx.service_url, "kind": "webhook", "mode": "open", "rate": 100,
                   "duration": ctx.duration, "params": {**params, "run": 2}})
    baseline = ctx.results.get("create_return", {}).get("baseline", {}).get("throughput_rps")
    ratio = round(saturated["throughput_rps"] / baseline, 2) if baseline else None
    return {"saturation": saturated, "fixed_100_per_s": fixed, "ratio": ratio,
            "target": "ratio >= 0.8, p99 < 50 ms at 100/s",
            "met": bool(ratio and ratio >= 0.8 and fixed["p99_ms"] < 50)}


def pipeline(ctx: Context) -> dict[str, Any]:
    """requested → refunded (and emails) per second with 2 RQ workers against localstripe."""
    from bench.pipeline import run_pipeline

    if not ctx.stripe_env:
        return {"available": False, "why": "localstripe is not installed"}
    return run_pipeline(ctx)


def queries_per_request(ctx: Context) -> dict[str, Any]:
    """SQL statements per request (in-process test client, SQLite): flat in result size."""
    from bench.sqlcount import measure

    rows = measure()
    lists = [r["queries"] for r in rows if r["endpoint"] == "GET /returns (list)"]
    return {"rows": rows, "met": len(set(lists)) == 1,
            "target": "list: same count for 1 and 50 results"}


Scenario = Callable[[Context], dict[str, Any]]
SCENARIOS: dict[str, Scenario] = {
    "create_return": create_return,
    "staff_list": staff_list,
    "webhook_ingest": webhook_ingest,
    "pipeline": pipeline,
    "queries_per_request": queries_per_request,
}
