"""Warehouse pages: scan (or type) an RMA, then record what arrived; that starts the refund."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from returns_service.common.errors import EditConflict, NotFound, ValidationFailed
from returns_service.common.money import format_money
from returns_service.console import bp
from returns_service.console.access import current_actor, permission_required
from returns_service.console.formerrors import form_errors, refuse
from returns_service.console.forms import ReceiveForm
from returns_service.console.services import reason_label
from returns_service.db import db
from returns_service.exchanges.services import exchanges_of
from returns_service.returns import services as returns
from returns_service.returns.models import Return
from returns_service.returns.rma import normalise_rma
from returns_service.shipping.inspection import awaits_inspection, inspect_parcel
from workflows.returns import InvalidTransition, Status, can_fire


@bp.get("/receiving")
@permission_required("console.receive")
def receiving() -> Any:
    """One input: a scanner types the RMA and presses Enter; so can a person."""
    typed = (request.args.get("rma") or "").strip()
    error = None
    if typed:
        rma = normalise_rma(typed)
        try:
            ret = returns.get_return(rma)
        except NotFound:
            error = f"No return {rma}. Check the label and scan again."
        else:
            if can_fire(ret.status, "receive") or awaits_inspection(ret):
                return redirect(url_for("console.receive", rma=ret.rma))
            error = (f"{ret.rma} is {ret.status.replace('_', ' ')}: only approved returns "
                     "can be received.")
    status = 404 if error and error.startswith("No return") else 409 if error else 200
    return render_template("console/receiving.html", typed=typed, error=error), status


def _approved(rma: str) -> Return:
    try:
        ret = returns.get_return(rma)
    except NotFound:
        abort(404)
    return ret


@bp.route("/receiving/<rma>", methods=["GET", "POST"])
@permission_required("console.receive")
def receive(rma: str) -> Any:
    ret = _approved(rma)
    first_scan = awaits_inspection(ret)  # refunded already: the check records, moves nothing
    if request.method == "GET":
        if not can_fire(ret.status, "receive") and not first_scan:
            flash(f"{ret.rma} is {ret.status.replace('_', ' ')}: it cannot be received.",
                  "error")
            return redirect(url_for("console.detail", rma=ret.rma))
        form = ReceiveForm(formdata=None, expected_version=ret.version, items=[
            {"sku": i.order_line.sku, "quantity": i.quantity} for i in ret.items])
        return _render(ret, form)
    form = ReceiveForm()
    if not form.validate_on_submit():
        return _render(ret, form, 422)
    received = [{"sku": row.sku.data, "quantity": row.quantity.data,
                 "condition": row.condition.data, "restock": row.restock.data == "yes",
                 "note": row.note.data or None}
                for row in (entry.form for entry in form.items.entries)]
    try:
        receive_or_inspect = inspect_parcel if first_scan else returns.receive_return
        ret = receive_or_inspect(ret.rma, received, current_actor(),
                                 note=form.note.data or None, expected_version=form.version())
        db.session.commit()
    except (EditConflict, InvalidTransition) as exc:
        db.session.rollback()
        flash("This return was changed by someone else (or is no longer waiting for the "
              f"parcel): {exc}. Reload and check before receiving.", "error")
        return redirect(url_for("console.detail", rma=rma))
    except ValidationFailed as exc:
        refuse(form, exc)
        return _render(_approved(rma), form, 422)
    if first_scan:
        flash(f"Checked {ret.rma}; its refund had started on the carrier's first scan."
              + (" It does not match: flagged for review." if ret.needs_review else ""),
              "success")
    elif ret.status == Status.REFUND_PENDING:
        amount = format_money(ret.refund_amount or 0, ret.currency)
        if current_app.config.get("STRIPE_API_KEY"):
            flash(f"Received {ret.rma}. Refund of {amount} started.", "success")
        else:
            flash(f"Received {ret.rma}. Refund of {amount} waits until STRIPE_API_KEY is set.",
                  "success")
    else:
        flash(f"Received {ret.rma}. Nothing in the parcel qualifies for a refund; closed.",
              "success")
    return redirect(url_for("console.detail", rma=ret.rma))


def _render(ret: Return, form: ReceiveForm, status: int = 200) -> Any:
    items = {i.order_line.sku: i for i in ret.items}
    rows = [(entry.form, items.get(entry.form.sku.data)) for entry in form.items.entries]
    # The summary names the item each message is about, as the customer pages do.
    names = {row.quantity.id.rsplit("-", 1)[0]: item.order_line.name
             for row, item in rows if item is not None}
    errors = [(field_id, f"{names[field_id.rsplit('-', 1)[0]]}: {message}"
               if field_id.rsplit("-", 1)[0] in names else message)
              for field_id, message in form_errors(form)]
    # Lines swapped for another variant: the packer ships the new item once this is received.
    exchanged = {e.return_item_id: e for e in exchanges_of(ret.id)
                 if e.status in ("requested", "awaiting_payment")}
    return render_template("console/receive.html", ret=ret, form=form, rows=rows,
                           errors=errors, reason_label=reason_label,
                           first_scan=awaits_inspection(ret), exchanged=exchanged), status
