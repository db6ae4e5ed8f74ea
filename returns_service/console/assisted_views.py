"""Agents file a return for a customer who phoned, emailed or chatted: same policy checks."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from returns_service.common.errors import ValidationFailed
from returns_service.console import bp
from returns_service.console import services as console
from returns_service.console.access import current_actor, permission_required
from returns_service.console.formerrors import apply_errors, form_errors
from returns_service.console.forms import AssistedReturnForm, reason_options
from returns_service.db import db
from returns_service.orders.models import Order
from returns_service.returns import services as returns
from returns_service.returns.eligibility import line_eligibility


@bp.get("/returns/new")
@permission_required("return.create_for_customer")
def new_return() -> Any:
    """Step 1: find the order. Step 2 (same page): choose items, reasons and the channel."""
    number = (request.args.get("order_number") or "").strip()
    email = (request.args.get("email") or "").strip()
    if not number:
        return render_template("console/new_return.html", order=None, lookup_error=None,
                               number=number, email=email)
    try:
        order = console.find_order(number, email or None)
    except ValidationFailed as exc:
        return render_template("console/new_return.html", order=None, number=number,
                               email=email, lookup_error=exc.errors["order_number"][0]), 404
    form = AssistedReturnForm(formdata=None, order_number=order.number, email=email,
                              items=[{"sku": line.sku} for line in order.lines])
    return _render(order, form)


@bp.post("/returns/new")
@permission_required("return.create_for_customer")
def create_return() -> Any:
    form = AssistedReturnForm()
    try:
        order = console.find_order(form.order_number.data or "", form.email.data or None)
    except ValidationFailed:
        flash("The order could not be found any more; look it up again.", "error")
        return redirect(url_for("console.new_return"))
    _set_choices(form)
    if not form.validate_on_submit():
        return _render(order, form, 422)
    items, index_map = [], {}
    for row, entry in enumerate(form.items.entries):
        sub = entry.form
        if sub.quantity.data:
            index_map[len(items)] = row
            items.append({"sku": sub.sku.data, "quantity": sub.quantity.data,
                          "reason": sub.reason.data, "comment": sub.comment.data or None})
    try:
        ret = console.create_assisted_return(order, items, channel=form.channel.data,
                                             actor=current_actor(),
                                             request_key=form.request_key.data or None)
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        for message in apply_errors(form, exc, index_map):
            flash(message, "error")
        return _render(db.session.get(Order, order.id) or order, form, 422)
    flash(f"Created {ret.rma} for {ret.order.email} ({ret.channel}).", "success")
    return redirect(url_for("console.detail", rma=ret.rma))


def _set_choices(form: AssistedReturnForm) -> None:
    choices = reason_options(returns.current_policy().reasons, "Choose a reason")
    for entry in form.items.entries:
        entry.form.reason.choices = choices


def _render(order: Order, form: AssistedReturnForm, status: int = 200) -> Any:
    _set_choices(form)
    eligibility = {e.line.sku: e for e in line_eligibility(order, returns.current_policy())}
    rows = [(entry.form, eligibility.get(entry.form.sku.data)) for entry in form.items.entries]
    return render_template("console/new_return.html", order=order, form=form, rows=rows,
                           errors=form_errors(form), lookup_error=None,
                           number=order.number, email=form.email.data or ""), status
