"""Store credit in the report: revenue retained (credit issued, without its bonus, plus the
value kept as exchanges, as a share of that plus the refunds started) per currency and week,
and the outstanding credit per currency (the merchant's liability).

A return is counted once, in the week it was settled: the status event that started its
payout, from `received` or (keep-the-item) `approved`. Refund retries are not counted again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from returns_service.credits.services import outstanding_by_currency
from returns_service.orders.models import Order
from returns_service.reports.sql import week_index
from returns_service.returns.models import Return, ReturnEvent

# The events that settle a return: its payout starts (or it is credited).
SETTLING = (("received", "refund_pending"), ("received", "credited"),
            ("approved", "refund_pending"), ("approved", "credited"),
            ("received", "refunded"))  # a manual refund straight after receipt


def _settled(start: datetime, end: datetime) -> Any:
    """Rows (w, currency, credited, returned) per week and currency."""
    pairs = [(ReturnEvent.from_status == f) & (ReturnEvent.to_status == t) for f, t in SETTLING]
    credited = func.sum(case((ReturnEvent.to_status == "credited", Return.refund_amount),
                             else_=0))
    week = week_index(ReturnEvent.created_at).label("w")
    return (select(week, Order.currency, credited, func.sum(Return.refund_amount))
            .join(Return, Return.id == ReturnEvent.return_id)
            .join(Order, Order.id == Return.order_id)
            .where(ReturnEvent.kind == "status", ReturnEvent.created_at >= start,
                   ReturnEvent.created_at < end, or_(*pairs))
            .group_by(week, Order.currency))


def _share(credited: int, returned: int, exchanged: int = 0) -> float | None:
    kept, whole = credited + exchanged, returned + exchanged
    return round(100 * kept / whole, 1) if whole else None


def store_credit_figures(session: Session, start: datetime, end: datetime, now: datetime,
                         exchanged: dict[tuple[int, str], tuple[int, int]] | None = None,
                         ) -> tuple[dict[str, Any], dict[int, list[Any]]]:
    """The period's figures per currency, and the weekly ones (week -> list per currency).
    `exchanged`: (week, currency) -> (exchanges, value kept) (reports.exchanges)."""
    exchanged = exchanged or {}
    totals: dict[str, list[int]] = {}
    cells: dict[tuple[int, str], list[int]] = {}
    for w, currency, credited, returned in session.execute(_settled(start, end)):
        cells[(int(w), currency)] = [int(credited or 0), int(returned or 0), 0]
    for key, (_count, value) in exchanged.items():
        cells.setdefault(key, [0, 0, 0])[2] = value
    weekly: dict[int, list[dict[str, Any]]] = {}
    for (w, currency), (credited, returned, kept) in sorted(cells.items()):
        total = totals.setdefault(currency, [0, 0, 0])
        for index, value in enumerate((credited, returned, kept)):
            total[index] += value
        weekly.setdefault(w, []).append({
            "currency": currency, "credit_issued": credited, "value_returned": returned,
            "exchanged_value": kept,
            "revenue_retained_pct": _share(credited, returned, kept)})
    outstanding = outstanding_by_currency(session, now)
    currencies = sorted(set(totals) | set(outstanding))
    return {"by_currency": [{
        "currency": c, "credit_issued": totals.get(c, [0, 0, 0])[0],
        "value_returned": totals.get(c, [0, 0, 0])[1],
        "exchanged_value": totals.get(c, [0, 0, 0])[2],
        "revenue_retained_pct": _share(*totals.get(c, [0, 0, 0])),
        "outstanding": outstanding.get(c, 0)} for c in currencies]}, weekly
