"""What the staff dashboard shows: figures in readable units and its three SVG charts."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from returns_service.reports.svg import Series, bar_chart, line_chart


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def duration_label(seconds: float | None) -> str:
    """5400 -> '1.5 h', 600 -> '10 min', 259200 -> '3.0 d', None -> a dash."""
    if seconds is None:
        return "\u2013"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    if seconds < 72 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def charts(report: dict[str, Any]) -> dict[str, Markup]:
    """The dashboard's charts, built from the dumped report (same figures as JSON/CSV)."""
    weeks = report["weekly"]
    labels = [w["week_start"][5:] for w in weeks]  # MM-DD of the Monday
    return {
        "times": line_chart(
            "chart-times", "Weekly median first response and resolution time",
            "Median hours per week (Monday, UTC): staff first response and resolution. "
            "The table below lists the same figures.", labels,
            [Series("First response (staff)",
                    [hours(w["first_response_staff"]["median_seconds"]) for w in weeks]),
             Series("Resolution", [hours(w["resolution"]["median_seconds"]) for w in weeks])],
            unit="h"),
        "reasons": bar_chart(
            "chart-reasons", "Returns by reason",
            "Number of returns requested in the period for each reason. "
            "The table below lists the same figures.",
            [(r["reason"], r["returns"]) for r in report["by_reason"]]),
        "csat": line_chart(
            "chart-csat", "Weekly customer satisfaction (CSAT)",
            "Average rating from 1 to 5 per week of the answer. "
            "The table below lists the same figures.", labels,
            [Series("CSAT average", [w["csat"]["average"] for w in weeks])],
            y_range=(1.0, 5.0)),
    }
