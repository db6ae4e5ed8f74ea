"""Portable SQL pieces for reports: whole epoch seconds and percentiles via window functions.

PostgreSQL has percentile_cont, SQLite has not; both have ROW_NUMBER/COUNT windows and
integer division, which is all the percentile method below needs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

# Percentiles as exact fractions (numerator, denominator), so ranks are integer arithmetic.
MEDIAN = (1, 2)
P90 = (9, 10)
PERCENTILES = {"median": MEDIAN, "p90": P90}
# 1970-01-05 00:00 UTC was a Monday: weeks are counted from there, Monday to Monday.
FIRST_MONDAY = 4 * 86400
WEEK = 7 * 86400


class epoch_seconds(FunctionElement[int]):
    """Whole seconds since 1970-01-01 UTC of a timestamp column (fractions truncated)."""

    type = BigInteger()
    inherit_cache = True


@compiles(epoch_seconds, "postgresql")
def _epoch_pg(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    (arg,) = element.clauses
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(arg, **kw)})) AS BIGINT)"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    (arg,) = element.clauses
    return f"CAST(strftime('%s', {compiler.process(arg, **kw)}) AS INTEGER)"


def week_index(column: Any) -> ColumnElement[int]:
    """Number of the Monday-based UTC week a timestamp falls in (see week_start)."""
    return (epoch_seconds(column) - FIRST_MONDAY) // WEEK


@dataclass(frozen=True)
class Distribution:
    """How many values, and their median and 90th percentile (seconds)."""

    count: int
    median: float | None
    p90: float | None


def _ranks(n: int, fraction: tuple[int, int]) -> tuple[int, int, int]:
    """(lower 1-based rank, remainder, denominator): value = x[lo] + rem/den * (x[lo+1]-x[lo])."""
    num, den = fraction
    position = (n - 1) * num
    return position // den + 1, position % den, den


def percentile_rows(durations: Select[Any], keys: tuple[str, ...]) -> Select[Any]:
    """Keep only the rows each group's median and p90 need.

    `durations` selects the group columns named in `keys` and `d` (integer seconds). The
    method is linear interpolation between closest ranks, as PostgreSQL's percentile_cont
    and numpy's default: position h = (n - 1) * p on the sorted values, counted from 0.
    """
    sub = durations.subquery()
    groups = [sub.c[k] for k in keys]
    ranked = select(
        *groups, sub.c.d,
        func.row_number().over(partition_by=groups, order_by=sub.c.d).label("rn"),
        func.count().over(partition_by=groups).label("n"),
    ).subquery()
    wanted = []
    for num, den in PERCENTILES.values():
        low = (ranked.c.n - 1) * num // den + 1
        wanted += [ranked.c.rn == low, ranked.c.rn == low + 1]
    return select(*[ranked.c[k] for k in keys], ranked.c.rn, ranked.c.n, ranked.c.d).where(
        or_(*wanted))


def distributions(rows: Iterable[Any], keys: int) -> dict[Hashable, Distribution]:
    """Turn percentile_rows() results into one Distribution per group (a tuple of `keys`)."""
    values: dict[Hashable, dict[int, int]] = defaultdict(dict)
    counts: dict[Hashable, int] = {}
    for row in rows:
        group = tuple(row[:keys])
        rn, n, d = row[keys:]
        values[group][int(rn)] = int(d)
        counts[group] = int(n)
    result: dict[Hashable, Distribution] = {}
    for group, n in counts.items():
        picked = []
        for fraction in (MEDIAN, P90):
            low, rem, den = _ranks(n, fraction)
            x_low = values[group][low]
            x_high = values[group].get(low + 1, x_low)
            picked.append(x_low + (x_high - x_low) * rem / den)
        result[group] = Distribution(n, picked[0], picked[1])
    return result


def percentile(sorted_values: list[int], fraction: tuple[int, int]) -> float | None:
    """The same method in plain Python (for tests and the benchmark's cross-check)."""
    if not sorted_values:
        return None
    low, rem, den = _ranks(len(sorted_values), fraction)
    x_low = sorted_values[low - 1]
    x_high = sorted_values[min(low, len(sorted_values) - 1)]
    return x_low + (x_high - x_low) * rem / den
