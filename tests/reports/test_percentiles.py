"""The SQL percentile method against Python's own (statistics, 'inclusive' = linear)."""

from __future__ import annotations

import statistics

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Integer, literal, select, union_all

from returns_service.db import db
from returns_service.reports.sql import MEDIAN, P90, distributions, percentile, percentile_rows


def sql_distribution(groups: dict[int, list[int]]) -> dict[int, tuple[int, float, float]]:
    table = union_all(*[select(literal(g, Integer).label("g"), literal(d, Integer).label("d"))
                        for g, ds in groups.items() for d in ds]).subquery()
    rows = db.session.execute(percentile_rows(select(table.c.g, table.c.d), ("g",)))
    return {g: (dist.count, dist.median, dist.p90)
            for (g,), dist in distributions(rows, 1).items()}


def expected(data: list[int]) -> tuple[int, float, float]:
    if len(data) == 1:
        return 1, data[0], data[0]
    p90 = statistics.quantiles(data, n=10, method="inclusive")[8]
    return len(data), statistics.median(data), p90


def test_three_durations_give_the_documented_figures(app):
    hours = [3 * 3600, 30 * 3600, 5 * 3600]
    with app.app_context():
        assert sql_distribution({1: hours}) == {1: (3, 5 * 3600, 25 * 3600)}
    assert percentile(sorted(hours), MEDIAN) == 5 * 3600
    assert percentile(sorted(hours), P90) == 25 * 3600


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.integers(0, 3), st.lists(st.integers(0, 10**7), min_size=1,
                                                   max_size=25), min_size=1, max_size=3))
def test_sql_percentiles_match_pythons_linear_method(app, groups):
    with app.app_context():
        got = sql_distribution(groups)
    for g, data in groups.items():
        count, median, p90 = expected(data)
        assert got[g][0] == count
        assert abs(got[g][1] - median) < 1e-6
        assert abs(got[g][2] - p90) < 1e-6
        assert abs(percentile(sorted(data), P90) - p90) < 1e-6
