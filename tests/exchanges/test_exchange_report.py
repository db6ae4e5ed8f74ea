"""Exchanges in the service report and on the dashboard: exchanges made per week, the value
they kept counted in revenue retained, and the most asked swaps in option values."""

from __future__ import annotations

from typing import Any

import pytest

from tests.exchanges.conftest import exchange
from tests.exchanges.test_exchanges import receive
from tests.reports.test_dashboard import log_in

PERIOD = {"from": "2026-03-02", "to": "2026-03-09"}


@pytest.fixture
def settled(api: Any, shirt_order: Any, frozen_now: Any) -> None:
    """M → L made (received), M → L and M → XL asked only, and a shirt simply refunded."""
    made = shirt_order("A1001")
    assert exchange(api, made, "SHIRT-L").status_code == 201
    assert receive(api, made)["refunds"] == []
    assert exchange(api, shirt_order("A1002"), "SHIRT-L").status_code == 201
    assert exchange(api, shirt_order("A1003"), "SHIRT-XL").status_code == 201
    refunded = receive(api, shirt_order("A1004"))
    assert [r["amount"] for r in refunded["refunds"]] == [2500]


def test_the_report_counts_exchanges_made_kept_value_and_top_swaps(api, settled) -> None:
    report = api.get("/api/v1/reports/service", as_="agent", query=PERIOD).json
    assert report["exchanges"] == {"made": 1, "top_swaps": [
        {"swap": "size M → L", "option": "size", "from": "M", "to": "L", "items": 2},
        {"swap": "size M → XL", "option": "size", "from": "M", "to": "XL", "items": 1}]}
    # €25 refunded, €25 kept as an exchange: half the value returned was retained.
    assert report["store_credit"]["by_currency"] == [{
        "currency": "EUR", "credit_issued": 0, "value_returned": 2500,
        "exchanged_value": 2500, "revenue_retained_pct": 50.0, "outstanding": 0}]
    [week] = report["weekly"]
    assert week["exchanges"] == 1
    csv = api.get("/api/v1/reports/service.csv", as_="agent", query=PERIOD).get_data(
        as_text=True)
    assert "exchanges.top_swaps[size M → L].items,2" in csv


def test_the_dashboard_shows_exchanges(app, client, settled) -> None:
    log_in(client, app, "agent")
    page = client.get("/staff/dashboard", query_string=PERIOD).get_data(as_text=True)
    assert "Exchanges made" in page and "Most asked exchanges" in page
    assert "€25.00 kept as exchanges" in page
