"""The service report's figures, each worked out by hand from tests/reports/history.py."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.reports.history import NOW, policy_file, seed_history

WEEK1 = {"from": "2026-03-02", "to": "2026-03-09"}
TWO_WEEKS = {"from": "2026-03-02", "to": "2026-03-16"}


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    app_config["RETURN_POLICY_FILE"] = policy_file(tmp_path)
    return app_config


@pytest.fixture
def history(app: Any, api: Any, make_order: Any) -> dict[str, str]:
    return seed_history(app, api, make_order)


def dist(count: int, median: float | None, p90: float | None) -> dict[str, Any]:
    return {"count": count, "median_seconds": median, "p90_seconds": p90}


def test_week_one_figures_match_the_hand_computed_history(api, history):
    report = api.get("/api/v1/reports/service", as_="agent", query=WEEK1).json

    assert report["period"] == {"from": "2026-03-02T00:00:00+00:00",
                                "to": "2026-03-09T00:00:00+00:00",
                                "first_response_target_hours": 24}
    # R1..R5 requested; R1 refunded, R3 rejected, R4 cancelled.
    assert report["volume"] == {"requested": 5, "resolved": 3, "outcomes": [
        {"status": "cancelled", "returns": 1}, {"status": "refunded", "returns": 1},
        {"status": "rejected", "returns": 1}]}
    # Staff answered after 3 h (R1), 5 h (R2), 30 h (R3): median 5 h;
    # p90 at rank (3-1)*0.9 = 1.8 -> 5 h + 0.8 * (30 h - 5 h) = 25 h.
    assert report["first_response"]["staff"] == dist(3, 5 * 3600, 25 * 3600)
    # R4 was approved by the auto-approve policy in the same instant.
    assert report["first_response"]["auto"] == dist(1, 0, 0)
    # Target 24 h: R3 answered late; R5 (phone, T0+3d) still waits at the end of the period.
    assert report["first_response"]["sla"] == {"target_hours": 24, "answered": 4,
                                               "answered_late": 1, "waiting_past_target": 1}
    # Resolved: R4 cancelled after 24 h, R3 rejected after 30 h, R1 refunded after 52 h:
    # median 30 h; p90 = 30 h + 0.8 * (52 h - 30 h) = 47.6 h.
    assert report["resolution"] == dist(3, 30 * 3600, 47.6 * 3600)
    # R1: received T0+2d, refunded 4 h later.
    assert report["refund_time"] == dist(1, 4 * 3600, 4 * 3600)
    # As of 2026-03-09 00:00: R2 approved (requested 6 d 14 h before), R5 requested (3 d 15 h).
    assert report["backlog"] == {"as_of": "2026-03-09T00:00:00+00:00", "total": 2, "by_status": [
        {"status": "approved", "total": 1, "under_1d": 0, "d1_to_3": 0, "d3_to_7": 1,
         "over_7d": 0},
        {"status": "requested", "total": 1, "under_1d": 0, "d1_to_3": 0, "d3_to_7": 1,
         "over_7d": 0}]}
    # Ratings 5, 2, 4, 3 -> 3.5 average, 2 of 4 rated 4-5. NPS answers 10, 3, 9:
    # 2 promoters, 1 detractor -> (2 - 1) / 3 = 33.3 %.
    assert report["satisfaction"] == {
        "csat": {"responses": 4, "average": 3.5, "satisfied_pct": 50.0},
        "nps": {"responses": 3, "promoters": 2, "passives": 0, "detractors": 1, "score": 33.3}}
    assert report["by_reason"] == [
        {"reason": "doesnt_fit", "returns": 3, "quantity": 4},
        {"reason": "changed_mind", "returns": 2, "quantity": 2},
        {"reason": "damaged", "returns": 1, "quantity": 1}]
    assert report["by_sku"] == [{"sku": "SHIRT", "returns": 3, "quantity": 4},
                                {"sku": "JEANS", "returns": 3, "quantity": 3}]
    assert report["by_channel"] == [{"channel": "api", "returns": 4},
                                    {"channel": "phone", "returns": 1}]
    # One shirt at 25.00 EUR, no shipping (the customer's choice of size).
    assert report["refunded"] == [{"currency": "EUR", "refunds": 1, "amount_minor": 2500}]


def test_weekly_series_splits_figures_by_the_week_they_ended(api, history):
    report = api.get("/api/v1/reports/service", as_="admin", query=TWO_WEEKS).json

    week1, week2 = report["weekly"]
    assert (week1["week_start"], week2["week_start"]) == ("2026-03-02", "2026-03-09")
    assert (week1["requested"], week2["requested"]) == (5, 1)
    assert week1["first_response_staff"] == dist(3, 5 * 3600, 25 * 3600)
    assert week2["first_response_staff"] == dist(1, 2 * 3600, 2 * 3600)  # R6
    assert week2["resolution"] == dist(0, None, None)
    assert week1["csat"] == {"responses": 4, "average": 3.5, "satisfied_pct": 50.0}
    assert week2["csat"] == {"responses": 0, "average": None, "satisfied_pct": None}
    # Both weeks: staff 2 h, 3 h, 5 h, 30 h -> median at rank 1.5 = 4 h;
    # p90 at rank 2.7 = 5 h + 0.7 * 25 h = 22.5 h.
    assert report["first_response"]["staff"] == dist(4, 4 * 3600, 22.5 * 3600)
    # As of NOW (before the period's end), ages since request: R2 approved 8 d 2 h,
    # R6 approved 1 d 2 h, R5 still requested 5 d 3 h.
    assert report["backlog"]["as_of"] == NOW.isoformat()
    assert {b["status"]: (b["d1_to_3"], b["d3_to_7"], b["over_7d"])
            for b in report["backlog"]["by_status"]} == {
        "approved": (1, 0, 1), "requested": (0, 1, 0)}
    assert report["first_response"]["sla"]["waiting_past_target"] == 1


def test_a_period_without_activity_reports_zero_counts_and_no_durations(api, history):
    report = api.get("/api/v1/reports/service", as_="agent",
                     query={"from": "2025-01-01", "to": "2025-01-08"}).json
    assert report["volume"] == {"requested": 0, "resolved": 0, "outcomes": []}
    assert report["first_response"]["staff"] == dist(0, None, None)
    assert report["satisfaction"]["nps"]["score"] is None
    assert report["by_reason"] == [] and report["refunded"] == []


def _flatten(node: Any, prefix: str = "") -> dict[str, str]:
    """The JSON's figures as the CSV should name them (written independently of export.py)."""
    out: dict[str, str] = {}
    if isinstance(node, dict):
        for key, value in node.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else key))
    elif isinstance(node, list):
        for item in node:
            key = next(k for k in ("week_start", "status", "reason", "sku", "channel",
                                   "currency") if k in item)
            out.update(_flatten({k: v for k, v in item.items() if k != key},
                                f"{prefix}[{item[key]}]"))
    else:
        out[prefix] = "" if node is None else str(node)
    return out


@pytest.mark.parametrize("csv_query", [{"path": ".csv"}, {"format": "csv"}])
def test_csv_export_has_the_same_figures_as_the_json(api, history, csv_query):
    as_json = api.get("/api/v1/reports/service", as_="agent", query=TWO_WEEKS).json
    path = "/api/v1/reports/service" + csv_query.get("path", "")
    query = dict(TWO_WEEKS, **({"format": "csv"} if "format" in csv_query else {}))
    response = api.get(path, as_="agent", query=query)

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "service-report_2026-03-02_2026-03-16.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["metric", "value"]
    figures = dict(rows[1:])
    assert figures == _flatten(as_json)
    assert figures["first_response.staff.median_seconds"] == str(4.0 * 3600)
    assert figures["by_reason[doesnt_fit].returns"] == "4"  # R6 adds one in week 2
    assert figures["refunded[EUR].amount_minor"] == "2500"
    assert figures["weekly[2026-03-09].resolution.median_seconds"] == ""


def test_a_rating_changed_later_counts_then_and_leaves_the_reported_week_alone(
        app, api, history):
    """R1 was rated 5 in week 1; on 10 March (week 2) the customer changes it to 1."""
    from returns_service.feedback.services import record_feedback
    from returns_service.returns.services import get_return

    with app.app_context():
        record_feedback(get_return(history["R1"]), rating=1)
        from returns_service.db import db

        db.session.commit()

    def csat(query: dict[str, str]) -> dict[str, Any]:
        return api.get("/api/v1/reports/service", as_="agent",
                       query=query).json["satisfaction"]["csat"]

    assert csat(WEEK1) == {"responses": 4, "average": 3.5, "satisfied_pct": 50.0}
    assert csat({"from": "2026-03-09", "to": "2026-03-16"}) == {
        "responses": 1, "average": 1.0, "satisfied_pct": 0.0}
    # Over both weeks each return counts once, with its latest answer: 1, 2, 4, 3.
    assert csat(TWO_WEEKS) == {"responses": 4, "average": 2.5, "satisfied_pct": 25.0}


def test_a_one_click_rating_keeps_the_nps_given_before_in_the_report(app, api, history):
    """R1 answered the survey (5, NPS 10) in week 1, then clicks 4 stars in an email."""
    from returns_service.db import db
    from returns_service.feedback.services import record_feedback
    from returns_service.returns.services import get_return

    with app.app_context():
        record_feedback(get_return(history["R1"]), rating=4, source="email", keep_missing=True)
        db.session.commit()
    week2 = api.get("/api/v1/reports/service", as_="agent",
                    query={"from": "2026-03-09", "to": "2026-03-16"}).json["satisfaction"]
    assert week2["csat"] == {"responses": 1, "average": 4.0, "satisfied_pct": 100.0}
    assert week2["nps"]["responses"] == 1 and week2["nps"]["promoters"] == 1


def test_report_needs_an_agent_or_admin_token(api, app):
    assert api.get("/api/v1/reports/service").status_code == 401
    assert api.get("/api/v1/reports/service", as_="warehouse").status_code == 403
    assert api.get("/api/v1/reports/service.csv", as_="integration").status_code == 403
    assert api.get("/api/v1/reports/service", as_="agent").status_code == 200


@pytest.mark.parametrize(("query", "field"), [
    ({"from": "2026-03-09", "to": "2026-03-02"}, "to"),
    ({"from": "2026-03-02", "to": "2026-03-02"}, "to"),
    ({"from": "2020-01-01", "to": "2026-01-01"}, "to"),
    ({"from": "last tuesday"}, "from"),
    ({"format": "xlsx"}, "format"),
    ({"from": "9999-12-31"}, "from"),  # its default end would be past year 9999
    ({"to": "0001-01-02"}, "to"),
])
def test_a_bad_period_is_a_422_problem_naming_the_field(api, app, query, field):
    response = api.get("/api/v1/reports/service", as_="agent", query=query)
    assert response.status_code == 422
    assert response.json["type"].endswith("validation-error")
    assert field in response.json["errors"]


def test_default_period_is_the_28_days_up_to_tomorrow(api, app, frozen_now):
    report = api.get("/api/v1/reports/service", as_="agent").json
    assert report["period"]["to"] == "2026-03-03T00:00:00+00:00"
    assert report["period"]["from"] == "2026-02-03T00:00:00+00:00"
    assert len(report["weekly"]) == 5  # Mondays 2 Feb .. 2 Mar


def test_report_is_documented_in_the_openapi_spec(client, app):
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/reports/service" in spec["paths"]
    assert "/api/v1/reports/service.csv" in spec["paths"]
    assert "ServiceReportOut" in str(spec["components"]["schemas"])
