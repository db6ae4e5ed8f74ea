"""Jinja filters the pages and emails share: money in the order's currency, dates (in the
customer's language on customer pages and emails, see common.i18n)."""

from __future__ import annotations

from flask import Flask

from returns_service.common import i18n


def words(code: str | None) -> str:
    """An internal code as staff read it: "refund_pending" -> "Refund pending"."""
    return (code or "").replace("_", " ").capitalize()


def install_filters(app: Flask) -> None:
    # Customer pages and emails: in the customer's language and the store's time zone;
    # elsewhere (the console) as before: "€1,234.50", "5 December 2026, 14:30 UTC".
    app.jinja_env.filters["money"] = i18n.money
    app.jinja_env.filters["date"] = i18n.date
    app.jinja_env.filters["datetime"] = i18n.date_time
    app.jinja_env.filters["words"] = words
