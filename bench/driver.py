"""Load driver, run as its own process: `python -m bench.driver '<json config>'` → JSON.

Closed loop (`concurrency` clients, each sending its next request when the last answered)
or open loop (`rate` requests per second on a fixed schedule, whatever the answers do).
Bounded by `duration` seconds and `max_requests`. Loopback only. With `"samples": true` the
answer also carries every latency, so slices of one measurement can be merged.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import aiohttp

Request = tuple[str, str, dict[str, str], bytes | None]  # method, path, headers, body


def stripe_signature(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The real Stripe scheme: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<body>")."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def request_factory(kind: str, params: dict[str, Any]) -> Callable[[int], Request]:
    """Request number i of a scenario."""
    json_headers = {"Content-Type": "application/json", **params.get("headers", {})}
    if kind == "insert":
        return lambda i: ("POST", "/insert", json_headers, json.dumps({"n": i}).encode())
    if kind == "create":
        start, prefix, email = params["start"], params["prefix"], params["email"]

        def create(i: int) -> Request:
            body = {"order_number": f"{prefix}{start + i:07d}", "email": email,
                    "items": [{"sku": "SKU-1", "quantity": 1, "reason": "doesnt_fit"}]}
            return "POST", "/api/v1/returns", json_headers, json.dumps(body).encode()
        return create
    if kind == "get":
        paths = params["paths"]
        return lambda i: ("GET", paths[i % len(paths)], params.get("headers", {}), None)
    if kind == "webhook":
        secret, path = params["secret"], params["path"]

        def webhook(i: int) -> Request:
            i += params.get("offset", 0)  # slices of one measurement send distinct events
            body = json.dumps(params["event"](i) if callable(params.get("event")) else {
                "id": f"evt_bench_{params.get('run', 0)}_{i}", "object": "event",
                "type": "charge.refund.updated", "api_version": "2024-06-20",
                "created": int(time.time()), "livemode": False,
                "data": {"object": {"id": f"re_bench_{i}", "object": "refund",
                                    "status": "succeeded", "amount": 1000, "currency": "eur",
                                    "payment_intent": f"pi_bench_{i}",
                                    "metadata": {}}}}).encode()
            headers = {**json_headers, "Stripe-Signature": stripe_signature(secret, body)}
            return "POST", path, headers, body
        return webhook
    raise ValueError(f"unknown request kind {kind!r}")


async def run(config: dict[str, Any]) -> dict[str, Any]:
    make = request_factory(config["kind"], config.get("params", {}))
    url, duration = config["url"], float(config.get("duration", 10))
    max_requests = int(config.get("max_requests", 10**9))
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    counter = itertools.count()
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as session:

        async def one(i: int) -> None:
            method, path, headers, body = make(i)
            started = time.perf_counter()
            try:
                async with session.request(method, path, headers=headers, data=body) as resp:
                    await resp.read()
                    statuses[str(resp.status)] += 1
            except (aiohttp.ClientError, TimeoutError) as exc:
                statuses[type(exc).__name__] += 1
            latencies.append(time.perf_counter() - started)

        t0 = time.perf_counter()
        deadline = t0 + duration
        if config.get("mode", "closed") == "closed":
            async def client() -> None:
                while time.perf_counter() < deadline:
                    i = next(counter)
                    if i >= max_requests:
                        return
                    await one(i)
            await asyncio.gather(*(client() for _ in range(int(config["concurrency"]))))
        else:
            rate, tasks = float(config["rate"]), []
            for i in range(min(max_requests, int(rate * duration))):
                delay = t0 + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(i)))
            await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - t0
    summary = summarise(latencies, statuses, elapsed)
    if config.get("samples"):  # for merging slices of one measurement (scenarios.merge)
        summary["latencies"] = latencies
    return summary


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def summarise(latencies: list[float], statuses: Counter[str], elapsed: float) -> dict[str, Any]:
    values = sorted(latencies)
    ok = sum(n for code, n in statuses.items() if code.isdigit() and int(code) < 400)
    ms = {f"p{p}_ms": round(percentile(values, p) * 1000, 2) for p in (50, 95, 99)}
    return {"requests": len(values), "ok": ok, "statuses": dict(statuses),
            "seconds": round(elapsed, 2),
            "throughput_rps": round(ok / elapsed, 1) if elapsed else 0,
            **ms, "max_ms": round(values[-1] * 1000, 2) if values else None}


def main() -> None:
    config = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(run(config))))


if __name__ == "__main__":
    main()
