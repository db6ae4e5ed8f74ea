"""Return shipping in the report: how long parcels take (approved → first carrier scan →
delivered to the warehouse → received there), what the labels cost per currency, and the
share of refunds that started on the carrier's first scan.

Like the other durations, a duration counts in the week it ended (the scan, the delivery,
the receipt); a label counts in the week it was bought; a refund in the week it started.
"Received" is the warehouse's receipt, or its check of a parcel refunded on the first scan.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, and_, case, cast, func, literal, null, or_, select, union_all
from sqlalchemy.orm import Session

from returns_service.reports.sql import (
    Distribution,
    distributions,
    epoch_seconds,
    percentile_rows,
    week_index,
)
from returns_service.returns.models import ReturnEvent
from returns_service.shipping.models import Shipment

DURATIONS = ("approved_to_shipped", "shipped_to_delivered", "delivered_to_received")
FIRST_SCAN_TRIGGER = "refund_on_first_scan"


def _approved() -> Any:
    return (select(ReturnEvent.return_id, func.min(ReturnEvent.created_at).label("at"))
            .where(ReturnEvent.kind == "status", ReturnEvent.to_status == "approved")
            .group_by(ReturnEvent.return_id).subquery())


def _received() -> Any:
    return (select(ReturnEvent.return_id, func.min(ReturnEvent.created_at).label("at"))
            .where(or_(and_(ReturnEvent.kind == "status", ReturnEvent.to_status == "received"),
                       ReturnEvent.kind == "inspection"))
            .group_by(ReturnEvent.return_id).subquery())


def _span(code: int, begin: Any, end: Any) -> Any:
    return (literal(code).label("m"), week_index(end).label("w"),
            (epoch_seconds(end) - epoch_seconds(begin)).label("d"))


def _durations(start: datetime, end: datetime) -> Any:
    """Rows (m, w, d) of every shipping duration that ended in [start, end)."""
    approved, received = _approved(), _received()
    shipped = (select(*_span(0, approved.c.at, Shipment.first_scan_at))
               .join(approved, approved.c.return_id == Shipment.return_id)
               .where(Shipment.first_scan_at >= start, Shipment.first_scan_at < end))
    delivered = (select(*_span(1, Shipment.first_scan_at, Shipment.delivered_at))
                 .where(Shipment.first_scan_at.is_not(None), Shipment.delivered_at >= start,
                        Shipment.delivered_at < end))
    arrived = (select(*_span(2, Shipment.delivered_at, received.c.at))
               .join(received, received.c.return_id == Shipment.return_id)
               .where(Shipment.delivered_at.is_not(None), received.c.at >= start,
                      received.c.at < end))
    return union_all(shipped, delivered, arrived)


def _dist(dist: Distribution | None) -> dict[str, Any]:
    dist = dist or Distribution(0, None, None)
    return {"count": dist.count, "median_seconds": dist.median, "p90_seconds": dist.p90}


def _label_spend(session: Session, start: datetime, end: datetime) -> list[Any]:
    voided = Shipment.voided_at.is_not(None)
    return session.execute(
        select(week_index(Shipment.label_bought_at).label("w"), Shipment.label_currency,
               func.count(), func.sum(Shipment.label_amount),
               func.sum(case((voided, 1), else_=0)),
               func.sum(case((voided, Shipment.label_amount), else_=0)))
        .where(Shipment.label_bought_at >= start, Shipment.label_bought_at < end,
               Shipment.label_currency.is_not(None))
        .group_by("w", Shipment.label_currency)).all()


def _first_scan_refunds(session: Session, start: datetime, end: datetime) -> list[Any]:
    """(week, refunds started, of which on the first scan) in [start, end): a return's
    refund starts once, from approved (first scan, keep-the-item) or received; retries of a
    failed refund are not counted again."""
    scanned = case((ReturnEvent.trigger == FIRST_SCAN_TRIGGER, 1), else_=0)
    started = (select(week_index(ReturnEvent.created_at).label("w"), scanned.label("s"))
               .where(ReturnEvent.kind == "status", ReturnEvent.to_status == "refund_pending",
                      ReturnEvent.from_status.in_(("approved", "received")),
                      ReturnEvent.created_at >= start, ReturnEvent.created_at < end)
               .subquery())
    return session.execute(select(started.c.w, func.count(), func.sum(started.c.s))
                           .group_by(started.c.w)).all()


def _share(refunds: int, scanned: int) -> dict[str, Any]:
    return {"refunds": refunds, "on_first_scan": scanned,
            "pct": round(scanned * 100 / refunds, 1) if refunds else None}


def _spend_row(currency: str, figures: list[int]) -> dict[str, Any]:
    labels, amount, voided, voided_amount = figures
    return {"currency": currency, "labels": labels, "amount_minor": amount,
            "voided": voided, "voided_minor": voided_amount}


def shipping_figures(session: Session, start: datetime,
                     end: datetime) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """The period's shipping figures, and the same per week number (see sql.week_index)."""
    durations = _durations(start, end).cte("shipping_durations")
    no_week = cast(null(), BigInteger).label("w")
    found = distributions(session.execute(union_all(
        percentile_rows(select(durations.c.m, no_week, durations.c.d), ("m", "w")),
        percentile_rows(select(durations.c.m, durations.c.w, durations.c.d), ("m", "w")),
    )).all(), 2)
    weekly: dict[int, dict[str, Any]] = {}

    def week(w: int) -> dict[str, Any]:
        return weekly.setdefault(int(w), {**{m: _dist(None) for m in DURATIONS},
                                          "label_spend": [], "first_scan_refunds": _share(0, 0)})

    for (m, w), dist in found.items():
        if w is not None:
            week(w)[DURATIONS[m]] = _dist(dist)
    totals: dict[str, list[int]] = {}
    for w, currency, *figures in _label_spend(session, start, end):
        figures = [int(f or 0) for f in figures]
        week(w)["label_spend"].append(_spend_row(currency, figures))
        totals[currency] = [a + b for a, b in zip(totals.get(currency, [0] * 4), figures,
                                                  strict=True)]
    refunds = scanned = 0
    for w, count, on_scan in _first_scan_refunds(session, start, end):
        week(w)["first_scan_refunds"] = _share(int(count), int(on_scan or 0))
        refunds, scanned = refunds + int(count), scanned + int(on_scan or 0)
    for entry in weekly.values():
        entry["label_spend"].sort(key=lambda row: row["currency"])
    overall = {
        **{m: _dist(next((d for (c, w), d in found.items() if c == i and w is None), None))
           for i, m in enumerate(DURATIONS)},
        "label_spend": [_spend_row(c, totals[c]) for c in sorted(totals)],
        "first_scan_refunds": _share(refunds, scanned),
    }
    return overall, weekly


def empty_week() -> dict[str, Any]:
    return {**{m: _dist(None) for m in DURATIONS}, "label_spend": [],
            "first_scan_refunds": _share(0, 0)}
