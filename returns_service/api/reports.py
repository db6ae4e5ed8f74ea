"""GET /api/v1/reports/service (JSON) and its CSV twin, for agents and admins."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint

from returns_service.http.auth import require
from returns_service.http.openapi import BEARER, PROBLEMS
from returns_service.reports.export import csv_filename, to_csv
from returns_service.reports.schemas import ReportPeriodQuery, ServiceReportOut
from returns_service.reports.services import service_report

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports",
                description="Service-quality reports computed from the audit trail")


def dumped_report(query: dict[str, Any]) -> dict[str, Any]:
    """The report for the query's period, serialised once for both JSON and CSV."""
    return ServiceReportOut().dump(service_report(query["start"], query["end"]))


def csv_response(report: dict[str, Any]) -> Response:
    return Response(to_csv(report), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{csv_filename(report)}"'})


CSV_CONTENT = {"text/csv": {"schema": {"type": "string"}}}
# /service answers JSON, or CSV with ?format=csv: both documented (doc() replaces, not merges).
JSON_OR_CSV = {"description": "The report (CSV with ?format=csv)", "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/ServiceReportOut"}},
    **CSV_CONTENT}}


@blp.route("/service", methods=["GET"])
@blp.doc(security=BEARER, responses={**PROBLEMS, "200": JSON_OR_CSV})
@blp.arguments(ReportPeriodQuery, location="query")
@blp.response(200, ServiceReportOut)
@require("reports.read")
def service(query: dict[str, Any]) -> Any:
    """First response, resolution and refund times (median, p90), SLA, backlog, CSAT/NPS,
    returns by reason/SKU/channel, refunded totals, and a weekly series for [from, to)."""
    if query["format"] == "csv":
        return csv_response(dumped_report(query))
    return service_report(query["start"], query["end"])


@blp.route("/service.csv", methods=["GET"])
@blp.doc(security=BEARER, responses={**PROBLEMS, "200": {
    "description": "metric,value rows", "content": CSV_CONTENT}})
@blp.arguments(ReportPeriodQuery(exclude=("format",)), location="query")  # always CSV
@blp.response(200, description="metric,value rows (the JSON's figures, flattened)")
@require("reports.read")
def service_csv(query: dict[str, Any]) -> Any:
    """The same report as CSV: one `metric,value` row per figure."""
    return csv_response(dumped_report(query))
