"""The staff dashboard (/staff/dashboard) and its CSV download, for agents and admins."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required
from marshmallow import ValidationError

from returns_service.api.reports import csv_response
from returns_service.console.auth_views import forbidden_page
from returns_service.console.services import reason_label
from returns_service.http.templating import words
from returns_service.reports.dashboard import charts, duration_label
from returns_service.reports.schemas import ReportPeriodQuery, ServiceReportOut
from returns_service.reports.services import service_report
from returns_service.staff.permissions import user_may

bp = Blueprint("reports_web", __name__)
bp.register_error_handler(403, forbidden_page)  # signed in with another role


def _require_staff() -> None:
    if not user_may(current_user, "reports.read"):
        abort(403)


def _period() -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    args = {k: v for k, v in request.args.items() if k in ("from", "to") and v}
    try:
        return ReportPeriodQuery().load(args), {}
    except ValidationError as exc:
        return None, {k: list(v) for k, v in exc.normalized_messages().items()}


@bp.app_template_filter("report_duration")
def _report_duration(seconds: float | None) -> str:
    return duration_label(seconds)


@bp.get("/staff/dashboard")
@login_required
def dashboard() -> Any:
    """Service quality for a period: figures, charts with data tables, backlog."""
    _require_staff()
    query, errors = _period()
    if query is None:
        query = ReportPeriodQuery().load({})
        status = 422
    else:
        status = 200
    report = _labelled(ServiceReportOut().dump(service_report(query["start"], query["end"])))
    return render_template("reports/dashboard.html", report=report, charts=charts(report),
                           errors=errors, form=request.args), status


def _labelled(report: dict[str, Any]) -> dict[str, Any]:
    """The report as people read it: the policy's reason labels, statuses in words (the API
    and the CSV keep the codes)."""
    backlog = report["backlog"]
    return {**report,
            "by_reason": [{**r, "reason": reason_label(r["reason"])} for r in report["by_reason"]],
            "backlog": {**backlog, "by_status": [{**b, "status": words(b["status"])}
                                                 for b in backlog["by_status"]]}}


@bp.get("/staff/dashboard.csv")
@login_required
def dashboard_csv() -> Any:
    """The dashboard's figures as CSV (the same export as the API's)."""
    _require_staff()
    query, _errors = _period()
    if query is None:
        abort(422)
    return csv_response(ServiceReportOut().dump(service_report(query["start"], query["end"])))
