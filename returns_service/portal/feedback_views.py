"""Customer feedback pages: one-click rating from an email (confirmed by a POST) and a
short survey (rating, comment, NPS). Signed links only; no login."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, make_response, render_template, request

from returns_service.common.errors import NotFound, ValidationFailed
from returns_service.db import db
from returns_service.feedback import services
from returns_service.returns.models import Return

bp = Blueprint("feedback", __name__, url_prefix="/feedback")


def _load(token: str) -> Return:
    try:
        return services.return_for_feedback(services.rma_from_feedback_token(token))
    except services.FeedbackLinkInvalid as exc:
        abort(make_response(render_template("feedback/invalid.html", expired=exc.expired), 404))
    except NotFound:
        abort(make_response(render_template("feedback/invalid.html", expired=False), 404))


def _page(ret: Return, token: str, *, errors: dict[str, list[str]] | None = None,
          form: dict[str, Any] | None = None, saved: bool = False, status: int = 200) -> Any:
    existing = services.feedback_of(ret)
    if form is None:
        form = {"rating": existing.rating if existing else None,
                "nps": existing.nps if existing else None,
                "comment": existing.comment if existing else ""}
    return render_template(
        "feedback/survey.html", ret=ret, token=token, form=form, errors=errors or {},
        saved=saved, can_rate=services.can_rate(ret), labels=services.RATING_LABELS), status


def _int_or_none(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


@bp.route("/<token>", methods=["GET", "POST"])
def survey(token: str) -> Any:
    """The short survey: rating 1-5, optional comment, optional NPS 0-10."""
    ret = _load(token)
    if request.method == "GET":
        return _page(ret, token)
    form = {"rating": _int_or_none(request.form.get("rating")),
            "nps": _int_or_none(request.form.get("nps")),
            "comment": request.form.get("comment", "")}
    try:
        services.record_feedback(ret, rating=form["rating"], nps=form["nps"],
                                 comment=form["comment"], source="survey")
    except ValidationFailed as exc:
        db.session.rollback()
        return _page(ret, token, errors=exc.errors, form=form, status=422)
    db.session.commit()
    return _page(ret, token, saved=True)


@bp.route("/<token>/<int:rating>", methods=["GET", "POST"])
def rate(token: str, rating: int) -> Any:
    """From the email: GET shows a confirm button (mail scanners follow links), POST records."""
    ret = _load(token)
    if rating not in services.RATINGS:
        abort(404)
    if request.method == "GET":
        return render_template("feedback/confirm.html", ret=ret, token=token, rating=rating,
                               label=services.RATING_LABELS[rating],
                               can_rate=services.can_rate(ret))
    try:
        services.record_feedback(ret, rating=rating, source="email", keep_missing=True)
    except ValidationFailed as exc:
        db.session.rollback()
        return _page(ret, token, errors=exc.errors, status=422)
    db.session.commit()
    return _page(ret, token, saved=True)
