"""The service-quality report, computed from the audit trail (return_events) and other tables.

Nothing here reads a separately maintained counter: every figure is aggregated in the
database from status events, return items, feedback answers and refund rows.

Which period a figure belongs to:
- durations (first response, resolution, refund time) count in the period, and the week,
  in which they *ended* (the response, the resolution, the refund happened in [from, to));
- volumes by reason/SKU/channel count returns *requested* in [from, to);
- the backlog is the state of every return as of min(to, now), replayed from the trail.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import BigInteger, and_, case, cast, func, literal, null, select, text, union_all
from sqlalchemy.orm import Session, aliased

from returns_service.common.clock import utcnow
from returns_service.db import reading_session
from returns_service.feedback.models import FeedbackAnswer
from returns_service.orders.models import Order, OrderLine
from returns_service.refunds.models import Refund
from returns_service.reports.conversations import message_response_times
from returns_service.reports.credit import store_credit_figures
from returns_service.reports.exchanges import exchanges_made, top_swaps
from returns_service.reports.shipping import empty_week, shipping_figures
from returns_service.reports.sql import (
    FIRST_MONDAY,
    WEEK,
    Distribution,
    distributions,
    epoch_seconds,
    percentile_rows,
    week_index,
)
from returns_service.returns.models import Return, ReturnEvent, ReturnItem
from workflows.returns import TERMINAL

DURATIONS = ("first_response_staff", "first_response_auto", "resolution", "refund_time")
CODE = {name: code for code, name in enumerate(DURATIONS)}  # small sort keys in SQL
# Sorting ~300k durations a year needs more than PostgreSQL's default 4 MB to stay in memory.
POSTGRES_WORK_MEM = "64MB"
RESPONSES = ("approved", "rejected")
TERMINAL_STATUSES = tuple(sorted(str(s) for s in TERMINAL))
AGE_BUCKETS = (("under_1d", 1), ("d1_to_3", 3), ("d3_to_7", 7), ("over_7d", None))
TOP_SKUS = 100
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_READER: ContextVar[Session] = ContextVar("report_session")


def week_start(index: int) -> datetime:
    """The Monday 00:00 UTC that starts week number `index` (see sql.week_index)."""
    return EPOCH + timedelta(seconds=FIRST_MONDAY + index * WEEK)


def week_of(moment: datetime) -> int:
    return (int((moment - EPOCH).total_seconds()) - FIRST_MONDAY) // WEEK


def _week(column: Any) -> Any:
    return week_index(column).label("w")


def _status_event(alias: Any, *statuses: str) -> Any:
    return and_(alias.kind == "status", alias.to_status.in_(statuses))


def _ending(start: datetime, end: datetime, metric: Any, alias: Any, begin_status: str,
            end_statuses: tuple[str, ...]) -> Any:
    """Rows (m, w, d) for events reaching `end_statuses` in [start, end), measured from the
    return's `begin_status` event: metric, week of the ending event, whole seconds.

    The workflow reaches each of these statuses at most once per return (requested, the
    first decision, received, a final status), so the join pairs one start with one end.
    """
    begin = aliased(ReturnEvent)
    return (
        select(metric.label("m"), _week(alias.created_at),
               (epoch_seconds(alias.created_at) - epoch_seconds(begin.created_at)).label("d"))
        .select_from(alias)
        .join(begin, and_(begin.return_id == alias.return_id,
                          _status_event(begin, begin_status)))
        .where(_status_event(alias, *end_statuses), alias.created_at >= start,
               alias.created_at < end)
    )


def _first_responses(start: datetime, end: datetime) -> Any:
    resp = aliased(ReturnEvent)
    metric = case((resp.actor_type == "system", literal(CODE["first_response_auto"])),
                  else_=literal(CODE["first_response_staff"]))
    return _ending(start, end, metric, resp, "requested", RESPONSES)


def _durations_query(start: datetime, end: datetime) -> Any:
    """Every duration that ended in [start, end), as rows (m, w, d)."""
    return union_all(
        _first_responses(start, end),
        _ending(start, end, literal(CODE["resolution"]), aliased(ReturnEvent), "requested",
                TERMINAL_STATUSES),
        _ending(start, end, literal(CODE["refund_time"]), aliased(ReturnEvent), "received",
                ("refunded",)),
    )


def _distributions(start: datetime, end: datetime) -> tuple[dict[Any, Distribution],
                                                              dict[Any, Distribution]]:
    """Median and p90 per metric, overall and per week, in one statement (the durations
    are computed once, as a CTE both groupings read)."""
    durations = _durations_query(start, end).cte("durations")
    no_week = cast(null(), BigInteger).label("w")
    rows = _reader().execute(union_all(
        percentile_rows(select(durations.c.m, no_week, durations.c.d), ("m", "w")),
        percentile_rows(select(durations.c.m, durations.c.w, durations.c.d), ("m", "w")),
    )).all()
    found = distributions(rows, 2)
    overall = {(DURATIONS[m],): dist for (m, w), dist in found.items() if w is None}
    weekly = {(DURATIONS[m], w): dist for (m, w), dist in found.items() if w is not None}
    return overall, weekly


def _dist_dict(dist: Distribution | None) -> dict[str, Any]:
    dist = dist or Distribution(0, None, None)
    return {"count": dist.count, "median_seconds": dist.median, "p90_seconds": dist.p90}


def _pct(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


def _satisfaction(start: datetime, end: datetime) -> tuple[dict[str, Any], dict[int, Any]]:
    """Overall CSAT/NPS and CSAT per week of the answer: per return, the latest answer given
    within the period (a rating changed later does not rewrite a period already reported)."""
    latest = (select(func.max(FeedbackAnswer.id).label("id"))
              .where(FeedbackAnswer.created_at >= start, FeedbackAnswer.created_at < end)
              .group_by(FeedbackAnswer.return_id).subquery())
    sub = (select(_week(FeedbackAnswer.created_at), FeedbackAnswer.rating, FeedbackAnswer.nps)
           .join(latest, FeedbackAnswer.id == latest.c.id).subquery())
    satisfied = func.sum(case((sub.c.rating >= 4, 1), else_=0))
    rows = _reader().execute(
        select(sub.c.w, func.count(), func.sum(sub.c.rating), satisfied,
               func.count(sub.c.nps), func.sum(case((sub.c.nps >= 9, 1), else_=0)),
               func.sum(case((sub.c.nps <= 6, 1), else_=0)))
        .group_by(sub.c.w)).all()
    total = [0] * 6
    weekly: dict[int, Any] = {}
    for w, *figures in rows:
        figures = [int(f or 0) for f in figures]
        total = [a + b for a, b in zip(total, figures, strict=True)]
        weekly[int(w)] = _csat(figures[0], figures[1], figures[2])
    n, rating_sum, happy, nps_n, promoters, detractors = total
    return {
        "csat": _csat(n, rating_sum, happy),
        "nps": {"responses": nps_n, "promoters": promoters,
                "passives": nps_n - promoters - detractors, "detractors": detractors,
                "score": round((promoters - detractors) * 100 / nps_n, 1) if nps_n else None},
    }, weekly


def _csat(n: int, rating_sum: int, happy: int) -> dict[str, Any]:
    return {"responses": n, "average": round(rating_sum / n, 2) if n else None,
            "satisfied_pct": _pct(happy, n)}


def _backlog(as_of: datetime, target_seconds: int) -> tuple[dict[str, Any], int]:
    """Open returns as of `as_of` by status and age since request; and how many await a
    first response for longer than the target."""
    req, done, cur = aliased(ReturnEvent), aliased(ReturnEvent), aliased(ReturnEvent)
    resolved = select(done.id).where(
        done.return_id == req.return_id, _status_event(done, *TERMINAL_STATUSES),
        done.created_at < as_of).exists()
    # Open returns are few; for each, its latest status event before as_of.
    status_then = (select(cur.to_status)
                   .where(cur.return_id == req.return_id, cur.kind == "status",
                          cur.created_at < as_of)
                   .order_by(cur.created_at.desc(), cur.id.desc()).limit(1)
                   .correlate(req).scalar_subquery())
    as_of_epoch = int((as_of - EPOCH).total_seconds())
    ages = (select(status_then.label("status"),
                   (literal(as_of_epoch) - epoch_seconds(req.created_at)).label("age"))
            .where(_status_event(req, "requested"), req.created_at < as_of, ~resolved)
            .subquery())
    bucket = case(*[(ages.c.age < days * 86400, literal(name))
                    for name, days in AGE_BUCKETS if days], else_=literal(AGE_BUCKETS[-1][0]))
    bucketed = select(ages.c.status, bucket.label("bucket"), ages.c.age).subquery()
    rows = _reader().execute(
        select(bucketed.c.status, bucketed.c.bucket, func.count(),
               func.sum(case((bucketed.c.age > target_seconds, 1), else_=0)))
        .group_by(bucketed.c.status, bucketed.c.bucket)).all()
    by_status: dict[str, dict[str, Any]] = {}
    waiting_late = 0
    for status, name, count, late in rows:
        entry = by_status.setdefault(status, {"status": status, "total": 0,
                                              **{b: 0 for b, _ in AGE_BUCKETS}})
        entry[name] += count
        entry["total"] += count
        if status == "requested":
            waiting_late += int(late or 0)
    listed = sorted(by_status.values(), key=lambda e: e["status"])
    return {"as_of": as_of, "total": sum(e["total"] for e in listed),
            "by_status": listed}, waiting_late


def _requested_ids(start: datetime, end: datetime) -> Any:
    return select(ReturnEvent.return_id).where(
        _status_event(ReturnEvent, "requested"), ReturnEvent.created_at >= start,
        ReturnEvent.created_at < end)


def _breakdowns(start: datetime, end: datetime) -> dict[str, list[dict[str, Any]]]:
    ids = _requested_ids(start, end)
    returns = func.count(ReturnItem.return_id.distinct())
    reasons = _reader().execute(
        select(ReturnItem.reason, returns, func.sum(ReturnItem.quantity))
        .where(ReturnItem.return_id.in_(ids)).group_by(ReturnItem.reason)
        .order_by(returns.desc(), ReturnItem.reason)).all()
    skus = _reader().execute(
        select(OrderLine.sku, returns, func.sum(ReturnItem.quantity))
        .join(OrderLine, OrderLine.id == ReturnItem.order_line_id)
        .where(ReturnItem.return_id.in_(ids)).group_by(OrderLine.sku)
        .order_by(func.sum(ReturnItem.quantity).desc(), OrderLine.sku).limit(TOP_SKUS)).all()
    channels = _reader().execute(
        select(Return.channel, func.count()).where(Return.id.in_(ids))
        .group_by(Return.channel).order_by(func.count().desc(), Return.channel)).all()
    refunded = _reader().execute(
        select(Refund.currency, func.count(), func.sum(Refund.amount))
        .where(Refund.status == "succeeded", Refund.succeeded_at >= start,
               Refund.succeeded_at < end)
        .group_by(Refund.currency).order_by(Refund.currency)).all()
    return {
        "refunded_tax": _refunded_tax(start, end),
        "by_reason": [{"reason": r, "returns": n, "quantity": int(q)} for r, n, q in reasons],
        "by_sku": [{"sku": s, "returns": n, "quantity": int(q)} for s, n, q in skus],
        "by_channel": [{"channel": c, "returns": n} for c, n in channels],
        "refunded": [{"currency": c, "refunds": n, "amount_minor": int(a)}
                     for c, n, a in refunded],
    }


def _refunded_tax(start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Tax refunded per currency and rate, for the merchant's tax return: the tax each
    return's refund carried (stored when it was priced), for the returns whose refund went
    through in the period."""
    paid = (select(Refund.return_id).where(Refund.status == "succeeded",
                                           Refund.succeeded_at >= start,
                                           Refund.succeeded_at < end)
            .distinct().scalar_subquery())
    totals: dict[tuple[str, str], int] = {}
    for currency, by_rate in _reader().execute(
            select(Order.currency, Return.refund_tax_by_rate)
            .join(Order, Order.id == Return.order_id)
            .where(Return.id.in_(paid), Return.refund_tax_by_rate.is_not(None))):
        for rate, amount in (by_rate or {}).items():
            totals[(currency, rate)] = totals.get((currency, rate), 0) + int(amount)
    return [{"tax_rate": f"{currency} {rate}%", "currency": currency, "rate": rate,
             "amount_minor": amount}
            for (currency, rate), amount in sorted(totals.items(),
                                                   key=lambda kv: (kv[0][0], float(kv[0][1])))]


def _volumes(start: datetime, end: datetime) -> tuple[dict[str, Any], dict[int, int]]:
    sub = select(_week(ReturnEvent.created_at), ReturnEvent.to_status).where(
        _status_event(ReturnEvent, "requested", *TERMINAL_STATUSES),
        ReturnEvent.created_at >= start, ReturnEvent.created_at < end).subquery()
    rows = _reader().execute(
        select(sub.c.w, sub.c.to_status, func.count()).group_by(sub.c.w, sub.c.to_status)).all()
    weekly: dict[int, int] = {}
    outcomes: dict[str, int] = {}
    for w, status, count in rows:
        if status == "requested":
            weekly[int(w)] = weekly.get(int(w), 0) + count
        else:
            outcomes[status] = outcomes.get(status, 0) + count
    return {"requested": sum(weekly.values()), "resolved": sum(outcomes.values()),
            "outcomes": [{"status": s, "returns": outcomes[s]} for s in sorted(outcomes)]}, weekly


def _reader() -> Session:
    """The session of the report being computed (the replica's, when one is configured)."""
    return _READER.get()


def service_report(start: datetime, end: datetime, *, now: datetime | None = None,
                   target_hours: int | None = None) -> dict[str, Any]:
    """Every service-quality figure for [start, end), plus a weekly series (Monday, UTC),
    read from REPORTS_DATABASE_URL when set (a replica), else from the database."""
    with reading_session() as session:
        token = _READER.set(session)
        try:
            return _service_report(start, end, now=now, target_hours=target_hours)
        finally:
            _READER.reset(token)


def _service_report(start: datetime, end: datetime, *, now: datetime | None,
                    target_hours: int | None) -> dict[str, Any]:
    now = now or utcnow()
    if target_hours is None:
        target_hours = int(current_app.config["FIRST_RESPONSE_TARGET_HOURS"])
    target = target_hours * 3600
    if _reader().get_bind().dialect.name == "postgresql":
        _reader().execute(text(f"SET LOCAL work_mem = '{POSTGRES_WORK_MEM}'"))
    overall, weekly_dist = _distributions(start, end)
    responses = _first_responses(start, end).subquery()
    late = _reader().execute(
        select(func.count(), func.sum(case((responses.c.d > target, 1), else_=0)))).one()
    as_of = min(end, now)
    backlog, waiting_late = _backlog(as_of, target)
    volume, weekly_requested = _volumes(start, end)
    satisfaction, weekly_csat = _satisfaction(start, end)
    made = exchanges_made(_reader(), start, end)
    store_credit, weekly_credit = store_credit_figures(_reader(), start, end, as_of, made)
    weekly_exchanges: dict[int, int] = {}
    for (w, _currency), (count, _value) in made.items():
        weekly_exchanges[w] = weekly_exchanges.get(w, 0) + count
    shipping, weekly_shipping = shipping_figures(_reader(), start, end)

    weeks = range(week_of(start), week_of(end - timedelta(microseconds=1)) + 1)
    weekly = [{
        "week_start": week_start(w).date(),
        "requested": weekly_requested.get(w, 0),
        **{m: _dist_dict(weekly_dist.get((m, w))) for m in DURATIONS},
        "csat": weekly_csat.get(w) or _csat(0, 0, 0),
        "store_credit": weekly_credit.get(w, []),
        "exchanges": weekly_exchanges.get(w, 0),
        "shipping": weekly_shipping.get(w) or empty_week(),
    } for w in weeks]
    return {
        "period": {"start": start, "end": end, "first_response_target_hours": target_hours},
        "volume": volume,
        "first_response": {
            "staff": _dist_dict(overall.get(("first_response_staff",))),
            "auto": _dist_dict(overall.get(("first_response_auto",))),
            "sla": {"target_hours": target_hours, "answered": int(late[0] or 0),
                    "answered_late": int(late[1] or 0), "waiting_past_target": waiting_late},
        },
        "messages": message_response_times(_reader(), start, end, target),
        "resolution": _dist_dict(overall.get(("resolution",))),
        "refund_time": _dist_dict(overall.get(("refund_time",))),
        "backlog": backlog,
        "satisfaction": satisfaction,
        **_breakdowns(start, end),
        "store_credit": store_credit,
        "exchanges": {"made": sum(weekly_exchanges.values()),
                      "top_swaps": top_swaps(_reader(), start, end)},
        "shipping": shipping,
        "weekly": weekly,
    }



def median_refund_seconds(start: datetime, end: datetime) -> float | None:
    """Median seconds from a parcel's arrival to its refund, for refunds in [start, end); None
    when there were none. The customers' Help page says how long refunds take from it."""
    durations = _ending(start, end, literal(CODE["refund_time"]), aliased(ReturnEvent),
                        "received", ("refunded",)).cte("durations")
    with reading_session() as session:
        rows = session.execute(percentile_rows(
            select(durations.c.m, cast(null(), BigInteger).label("w"), durations.c.d),
            ("m", "w"))).all()
    dist = next(iter(distributions(rows, 2).values()), None)
    return dist.median if dist is not None and dist.count else None
