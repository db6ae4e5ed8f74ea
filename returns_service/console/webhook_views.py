"""Admin pages for outbound webhooks: register endpoints (the signing secret shown once),
each endpoint's delivery log with resend, "Send test event", secret rotation, enable and
disable."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for

from returns_service.common.errors import NotFound, ValidationFailed
from returns_service.console import bp
from returns_service.console.access import permission_required
from returns_service.console.formerrors import form_errors, refuse
from returns_service.console.forms import WebhookActionForm, WebhookEndpointForm
from returns_service.db import db
from returns_service.integrations import endpoints as service

MANAGE = "webhooks.manage"


@bp.route("/webhooks", methods=["GET", "POST"])
@permission_required(MANAGE)
def webhooks() -> Any:
    form = WebhookEndpointForm()
    status, secret, created = 200, None, None
    if form.validate_on_submit():
        try:
            created, secret = service.create_endpoint(
                form.url.data or "", list(form.event_types.data or []),
                description=form.description.data or "")
            db.session.commit()
        except ValidationFailed as exc:
            refuse(form, exc)
            status = 422
        else:
            form = WebhookEndpointForm(formdata=None)
    elif form.is_submitted():
        status = 422
    return render_template("console/webhooks.html", form=form, errors=form_errors(form),
                           endpoints=service.list_endpoints(), secret=secret,
                           created=created), status


def _endpoint_page(endpoint_id: int, *, secret: str | None = None) -> Any:
    try:
        endpoint = service.get_endpoint(endpoint_id)
    except NotFound:
        abort(404)
    return render_template("console/webhook_detail.html", endpoint=endpoint, secret=secret,
                           deliveries=service.list_deliveries(endpoint_id),
                           action=WebhookActionForm())


@bp.get("/webhooks/<int:endpoint_id>")
@permission_required(MANAGE)
def webhook_detail(endpoint_id: int) -> Any:
    return _endpoint_page(endpoint_id)


def _checked() -> None:
    if not WebhookActionForm().validate_on_submit():
        abort(400)


@bp.post("/webhooks/<int:endpoint_id>/test")
@permission_required(MANAGE)
def webhook_test(endpoint_id: int) -> Any:
    _checked()
    try:
        service.send_test_event(endpoint_id)
        db.session.commit()
    except NotFound:
        abort(404)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(" ".join(m for ms in exc.errors.values() for m in ms), "error")
    else:
        flash("Test event queued: its delivery shows in the log below.", "success")
    return redirect(url_for("console.webhook_detail", endpoint_id=endpoint_id))


@bp.post("/webhooks/<int:endpoint_id>/rotate")
@permission_required(MANAGE)
def webhook_rotate(endpoint_id: int) -> Any:
    _checked()
    try:
        _, secret = service.rotate_secret(endpoint_id)
        db.session.commit()
    except NotFound:
        abort(404)
    return _endpoint_page(endpoint_id, secret=secret)


@bp.post("/webhooks/<int:endpoint_id>/enabled")
@permission_required(MANAGE)
def webhook_enabled(endpoint_id: int) -> Any:
    _checked()
    try:
        endpoint = service.get_endpoint(endpoint_id)
        endpoint = service.update_endpoint(endpoint_id, {"enabled": not endpoint.enabled})
        db.session.commit()
    except NotFound:
        abort(404)
    flash("Endpoint enabled." if endpoint.enabled else "Endpoint disabled.", "success")
    return redirect(url_for("console.webhook_detail", endpoint_id=endpoint_id))


@bp.post("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/resend")
@permission_required(MANAGE)
def webhook_resend(endpoint_id: int, delivery_id: int) -> Any:
    _checked()
    try:
        delivery = service.resend(delivery_id, endpoint_id=endpoint_id)
        sequence = delivery.sequence
        db.session.commit()
    except NotFound:
        abort(404)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(" ".join(m for ms in exc.errors.values() for m in ms), "error")
    else:
        flash(f"Event #{sequence} queued again.", "success")
    return redirect(url_for("console.webhook_detail", endpoint_id=endpoint_id))
