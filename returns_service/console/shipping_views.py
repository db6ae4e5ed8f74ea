"""Return shipping in the console: the warehouse's Incoming list (parcels on their way, with
the carrier's expected dates) and an agent's retry of a label that failed."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_wtf import FlaskForm

from returns_service.common.errors import NotFound, ValidationFailed
from returns_service.console import bp
from returns_service.console.access import permission_required
from returns_service.db import db
from returns_service.shipping import services as shipping


@bp.get("/incoming")
@permission_required("shipping.incoming")
def incoming() -> Any:
    """Parcels with a return label, not delivered yet: the soonest expected first."""
    return render_template("console/incoming.html", shipments=shipping.incoming())


@bp.post("/returns/<rma>/retry-label")
@permission_required("shipping.retry_label")
def retry_label(rma: str) -> Any:
    form = FlaskForm()
    if not form.validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for("console.detail", rma=rma))
    try:
        shipping.retry_label(rma)
        db.session.commit()
    except (NotFound, ValidationFailed) as exc:
        db.session.rollback()
        flash(str(exc.detail if isinstance(exc, NotFound) else
                  next(iter(exc.errors.values()))[0]), "error")
    else:
        flash("Buying the return label again.", "success")
    return redirect(url_for("console.detail", rma=rma))
