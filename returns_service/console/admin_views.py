"""Admin page: list staff users, create them, disable or re-enable them."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from returns_service.common.clock import utcnow
from returns_service.common.errors import NotFound, ValidationFailed
from returns_service.console import bp
from returns_service.console import services as console
from returns_service.console.access import permission_required
from returns_service.console.formerrors import form_errors, refuse
from returns_service.console.forms import UserActiveForm, UserCreateForm
from returns_service.db import db
from returns_service.staff.services import create_user


@bp.route("/users", methods=["GET", "POST"])
@permission_required("staff.manage")
def users() -> Any:
    form = UserCreateForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = create_user(form.email.data or "", form.role.data, form.password.data,
                               form.name.data or "")
            db.session.commit()
        except ValidationFailed as exc:
            refuse(form, exc)
            status = 422
        else:
            flash(f"Created {user.email} ({user.role}). Give them the password in person.",
                  "success")
            return redirect(url_for("console.users"))
    elif form.is_submitted():
        status = 422
    return render_template("console/users.html", form=form, errors=form_errors(form),
                           users=console.list_staff(), tokens=console.live_tokens_by_user(),
                           now=utcnow(), toggle=UserActiveForm), status


@bp.post("/users/<int:user_id>/active")
@permission_required("staff.manage")
def set_active(user_id: int) -> Any:
    form = UserActiveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        user = console.set_user_active(user_id, form.active.data, by=current_user)
        db.session.commit()
    except NotFound:
        abort(404)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(" ".join(m for ms in exc.errors.values() for m in ms), "error")
        return redirect(url_for("console.users"))
    flash(f"{user.email} is now active." if user.active else
          f"{user.email} is now disabled: signed out everywhere, API tokens revoked.",
          "success")
    return redirect(url_for("console.users"))
