"""Admin page: one customer's personal data, exported as a JSON file or erased after a
confirmation step that says what will go and what holds it back."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, flash, redirect, render_template, url_for
from flask_login import current_user

from returns_service.common.errors import NotFound, ValidationFailed
from returns_service.console import bp
from returns_service.console.access import permission_required
from returns_service.console.formerrors import apply_errors, form_errors
from returns_service.console.forms import PersonalDataForm
from returns_service.db import db
from returns_service.returns import personal_data
from returns_service.returns.personal_data import PersonalDataHeld


def _page(form: PersonalDataForm, status: int = 200, **context: Any) -> Any:
    return render_template("console/personal_data.html", form=form, errors=form_errors(form),
                           **context), status


@bp.route("/personal-data", methods=["GET", "POST"])
@permission_required("personal_data.manage")
def personal_data_page() -> Any:
    form = PersonalDataForm()
    if not form.is_submitted():
        return _page(form)
    if not form.validate():
        return _page(form, 422)
    email, action = form.email.data or "", form.action.data
    try:
        if action == "export":
            return _download(personal_data.export_customer(email))
        if action == "confirm_erase":
            return _erase(form, email)
        return _page(form, preview=personal_data.preview(email))
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return _page(form, 422)
    except NotFound as exc:
        form.email.errors = [exc.detail]
        return _page(form, 404)


def _download(export: dict[str, Any]) -> Response:
    return Response(json.dumps(export, indent=2, ensure_ascii=False, default=str),
                    mimetype="application/json", headers={
                        "Content-Disposition": 'attachment; filename="personal-data.json"'})


def _erase(form: PersonalDataForm, email: str) -> Any:
    try:
        result = personal_data.erase_customer(email, actor_id=current_user.id,
                                              actor_label=current_user.email)
        db.session.commit()
    except PersonalDataHeld as exc:
        db.session.rollback()
        return _page(form, 409, held=exc.extensions["reasons"])
    if result["erased"]:
        flash(f"Personal data erased: {result['returns']} returns and {result['orders']} "
              "orders anonymised.", "success")
    else:
        flash("Nothing was left to erase for this email.", "success")
    return redirect(url_for("console.personal_data_page"))
