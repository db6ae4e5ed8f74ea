"""Jinja filters the pages and emails share: money in the order's currency, dates."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from returns_service.common.money import format_money


def format_date(value: datetime | None) -> str:
    return "" if value is None else f"{value:%-d %B %Y}"


def format_datetime(value: datetime | None) -> str:
    return "" if value is None else f"{value:%-d %B %Y, %H:%M} UTC"


def words(code: str | None) -> str:
    """An internal code as staff read it: "refund_pending" -> "Refund pending"."""
    return (code or "").replace("_", " ").capitalize()


def install_filters(app: Flask) -> None:
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["words"] = words
