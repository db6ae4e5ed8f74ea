"""Exchanges in the report: exchanges made per week (an exchange order created: the sale was
kept), the value they kept per currency (the original lines' value, counted in revenue
retained next to store credit), and the most asked swaps in option values ("size M → L"),
the sizing signal merchants look for.

An exchange counts as made in the week its exchange order was created; a swap counts in the
week the customer asked for it, whatever became of it (an expired payment still says which
size they wanted)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from returns_service.exchanges.models import Exchange, ExchangeOrder, Variant
from returns_service.reports.sql import week_index

TOP_SWAPS = 10


def exchanges_made(session: Session, start: datetime,
                   end: datetime) -> dict[tuple[int, str], tuple[int, int]]:
    """(week, currency) -> (exchanges made, value kept) for exchange orders created in
    [start, end)."""
    week = week_index(ExchangeOrder.created_at).label("w")
    rows = session.execute(
        select(week, Exchange.currency, func.count(), func.sum(Exchange.original_value))
        .join(Exchange, Exchange.id == ExchangeOrder.exchange_id)
        .where(ExchangeOrder.created_at >= start, ExchangeOrder.created_at < end)
        .group_by(week, Exchange.currency))
    return {(int(w), currency): (int(count), int(value or 0))
            for w, currency, count, value in rows}


def top_swaps(session: Session, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The swaps asked for most in [start, end): the option values that changed (`option`
    "size", `from` "M", `to` "L"), or the SKUs when the catalog does not tell."""
    pairs = session.execute(
        select(Exchange.from_sku, Exchange.to_sku, func.sum(Exchange.quantity))
        .where(Exchange.created_at >= start, Exchange.created_at < end)
        .group_by(Exchange.from_sku, Exchange.to_sku)).all()
    skus = {sku for pair in pairs for sku in pair[:2]}
    options = dict(session.execute(select(Variant.sku, Variant.options)
                                   .where(Variant.sku.in_(skus))).all()) if skus else {}
    counts: Counter[tuple[str | None, str, str]] = Counter()
    for from_sku, to_sku, quantity in pairs:
        before, after = options.get(from_sku) or {}, options.get(to_sku) or {}
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        if before and after and changed:
            key = (", ".join(changed), ", ".join(str(before.get(k, "none")) for k in changed),
                   ", ".join(str(after.get(k, "none")) for k in changed))
        else:
            key = (None, from_sku, to_sku)
        counts[key] += int(quantity or 0)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][1], kv[0][2]))
    return [{"swap": f"{option or 'SKU'} {a} → {b}", "option": option, "from_": a, "to": b,
             "items": n}
            for (option, a, b), n in ranked[:TOP_SWAPS]]
