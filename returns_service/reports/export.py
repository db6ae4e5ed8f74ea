"""CSV export of a dumped service report: one row per figure, the same numbers as the JSON."""

from __future__ import annotations

import csv
import io
from typing import Any

# What names an item in each list of the report (its row key in the CSV).
ITEM_KEYS = ("week_start", "tax_rate", "status", "reason", "sku", "channel", "currency",
             "swap")


def flatten(node: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Figures as (path, value); list items are keyed by their ITEM_KEYS field, e.g.
    `by_reason[doesnt_fit].returns` or `weekly[2026-02-23].resolution.median_seconds`."""
    rows: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            rows += flatten(value, f"{prefix}.{key}" if prefix else key)
    elif isinstance(node, list):
        for item in node:
            key = next((k for k in ITEM_KEYS if isinstance(item, dict) and k in item), None)
            if key is not None:
                rest = {k: v for k, v in item.items() if k != key}
                rows += flatten(rest, f"{prefix}[{item[key]}]")
            else:
                rows.append((prefix, item))
    else:
        rows.append((prefix, node))
    return rows


def to_csv(report: dict[str, Any]) -> str:
    """`metric,value` rows; empty value where a figure has no data (e.g. no responses)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["metric", "value"])
    for path, value in flatten(report):
        writer.writerow([path, "" if value is None else value])
    return out.getvalue()


def csv_filename(report: dict[str, Any]) -> str:
    period = report["period"]
    return f"service-report_{period['from'][:10]}_{period['to'][:10]}.csv"
