"""Return parcels in the service report and on the dashboard: transit times (medians and
p90 per week), label spend per currency, and the share of refunds started on the carrier's
first scan, worked out by hand from two returns on a frozen clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from returns_service.common import clock
from tests.shipping.test_labels import shipment_of
from tests.support.easypost import post_event, tracker_event

WEEK = {"from": "2026-03-02", "to": "2026-03-09"}
DAY = 86400


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    policy = tmp_path / "policy.toml"
    policy.write_text('[shipping]\nrefund_on_first_scan = ["damaged"]\n')
    app_config["RETURN_POLICY_FILE"] = str(policy)
    return app_config


@pytest.fixture
def parcels(app, api, client, approved_return, frozen_now) -> dict[str, str]:
    """Monday 12:00: two returns approved, labels bought (6.00 USD each).
    A (doesnt_fit): scanned after 1 day, delivered 2 days later, received 1 day after that.
    B (damaged, trusted): scanned after 2 days, which starts its refund."""
    a = approved_return("A1001", reason="doesnt_fit")
    b = approved_return("A1002", reason="damaged")
    at = {a: shipment_of(app, a).tracker_id, b: shipment_of(app, b).tracker_id}
    for days, rma, status in ((1, a, "in_transit"), (2, b, "in_transit"),
                              (3, a, "delivered")):
        clock.freeze(frozen_now + timedelta(days=days))
        post_event(client, tracker_event(at[rma], status))
    clock.freeze(frozen_now + timedelta(days=4))
    received = api.post(f"/api/v1/returns/{a}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 2, "condition": "resellable"}]})
    assert received.status_code == 200, received.json
    return {"a": a, "b": b}


def test_the_report_has_transit_times_label_spend_and_first_scan_refunds(api, parcels):
    shipping = api.get("/api/v1/reports/service", as_="agent", query=WEEK).json["shipping"]
    # 1 day and 2 days: the median halfway, p90 nine tenths of the way.
    assert shipping["approved_to_shipped"] == {
        "count": 2, "median_seconds": 1.5 * DAY, "p90_seconds": 1.9 * DAY}
    assert shipping["shipped_to_delivered"] == {
        "count": 1, "median_seconds": 2 * DAY, "p90_seconds": 2 * DAY}
    assert shipping["delivered_to_received"] == {
        "count": 1, "median_seconds": DAY, "p90_seconds": DAY}
    assert shipping["label_spend"] == [{"currency": "USD", "labels": 2, "amount_minor": 1200,
                                        "voided": 0, "voided_minor": 0}]
    # A's refund started on receipt, B's on the first scan.
    assert shipping["first_scan_refunds"] == {"refunds": 2, "on_first_scan": 1, "pct": 50.0}


def test_weekly_figures_count_in_the_week_they_ended(api, parcels):
    report = api.get("/api/v1/reports/service", as_="agent",
                     query={"from": "2026-02-23", "to": "2026-03-09"}).json
    before, week = (w["shipping"] for w in report["weekly"])
    assert before["approved_to_shipped"]["count"] == 0 and before["label_spend"] == []
    assert week["approved_to_shipped"]["median_seconds"] == 1.5 * DAY
    assert week["label_spend"][0]["amount_minor"] == 1200
    assert week["first_scan_refunds"]["on_first_scan"] == 1


def test_the_csv_and_the_dashboard_show_them(app, api, client, parcels):
    from tests.reports.test_dashboard import log_in

    text = api.get("/api/v1/reports/service.csv", as_="agent", query=WEEK).get_data(
        as_text=True)
    assert "shipping.label_spend[USD].amount_minor,1200" in text
    assert "shipping.first_scan_refunds.pct,50.0" in text
    log_in(client, app, "agent")
    page = client.get("/staff/dashboard", query_string=WEEK).get_data(as_text=True)
    assert "Return parcels" in page and "1.5 d" not in page  # durations under 3 d in hours
    assert "36.0 h" in page  # approved to first scan, median
    assert "Refunds started on the first carrier scan: 1 of 2 refunds (50.0 %)" in " ".join(
        page.split())
