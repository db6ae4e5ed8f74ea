"""CPU time the whole machine spent working (user + system), from /proc/stat.

Throughput on a shared virtual machine moves with its neighbours; the CPU seconds our
processes burn per request move much less. Scenarios report both.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def busy_seconds() -> float | None:
    """user + nice + system + irq + softirq since boot, in seconds (None off Linux)."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[:7])
    return (user + nice + system + irq + softirq) / TICKS


@contextmanager
def cpu_meter() -> Iterator[dict[str, float]]:
    """`with cpu_meter() as m:` … then m["seconds"] is the machine's busy CPU time inside."""
    result: dict[str, float] = {}
    start = busy_seconds()
    yield result
    end = busy_seconds()
    if start is not None and end is not None:
        result["seconds"] = end - start


def per_item_ms(meter: dict[str, float], items: int) -> float | None:
    return round(1000 * meter["seconds"] / items, 2) if "seconds" in meter and items else None


GROUPS = (  # (group, words that must all appear in the command line), first match wins
    ("service (gunicorn)", ("gunicorn", "wsgi:app")),
    ("baseline (gunicorn)", ("gunicorn", "baseline_app")),
    ("rq workers", ("flask", "worker")),
    ("localstripe", ("localstripe",)),
    ("smtp sink", ("aiosmtpd",)),
    ("load driver", ("bench.driver",)),
    ("postgresql", ("postgres",)),
    ("redis", ("redis-server",)),
)


def cpu_by_group() -> dict[str, float]:
    """CPU seconds used so far by the processes of each group (live processes only)."""
    totals: dict[str, float] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        group = next((name for name, words in GROUPS if all(w in cmdline for w in words)),
                     None)
        if group is not None:
            # utime and stime are fields 14 and 15 of /proc/<pid>/stat (1-based).
            totals[group] = totals.get(group, 0.0) + (int(fields[11]) + int(fields[12])) / TICKS
    return totals


def group_seconds(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Per group, CPU seconds used between two cpu_by_group() readings."""
    return {name: after[name] - before.get(name, 0.0) for name in after
            if after[name] - before.get(name, 0.0) > 0}


def group_ms_per_item(before: dict[str, float], after: dict[str, float],
                      items: int) -> dict[str, float]:
    """Per group, CPU milliseconds per item between two cpu_by_group() readings."""
    return {name: round(1000 * used / max(items, 1), 1)
            for name, used in group_seconds(before, after).items()}
