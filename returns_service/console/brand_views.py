"""Admin page: the store's look (name, logo, primary colour, support contact, footer links)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from returns_service.branding import current_brand
from returns_service.branding.contrast import MIN_CONTRAST
from returns_service.branding.services import defaults, forget_logo, saved_values, update_brand
from returns_service.common.errors import ValidationFailed
from returns_service.console import bp
from returns_service.console.access import permission_required
from returns_service.console.formerrors import form_errors, refuse
from returns_service.console.forms import BrandForm
from returns_service.db import db


@bp.route("/brand", methods=["GET", "POST"])
@permission_required("brand.manage")
def brand_settings() -> Any:
    form = BrandForm(data=saved_values())
    status = 200
    if form.validate_on_submit():
        try:
            saved = update_brand(
                {name: getattr(form, name).data for name in saved_values()},
                logo=_uploaded_logo(), remove_logo=bool(form.remove_logo.data),
                by=current_user.email)
            db.session.commit()
        except ValidationFailed as exc:
            refuse(form, exc)
            status = 422
        else:
            forget_logo(saved.replaced_logo)
            flash("Branding saved: customers see it on their next page and in every new email.",
                  "success")
            return redirect(url_for("console.brand_settings"))
    elif form.is_submitted():
        status = 422
    return render_template("console/brand.html", form=form, errors=form_errors(form),
                           look=current_brand(), settings=defaults(),
                           min_contrast=MIN_CONTRAST), status


def _uploaded_logo() -> bytes | None:
    upload = request.files.get("logo")
    if upload is None or not upload.filename:
        return None
    with upload.stream:  # a large upload spools to a temporary file: closed once read
        return upload.read()
