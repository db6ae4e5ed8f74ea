"""Agent page: record a refund made outside Stripe (bank transfer, voucher, cash), as the
refund-problems page advises; at most what the return is still owed, unless an admin gives
the reason for an over-refund."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from returns_service.common.errors import EditConflict, NotFound, ValidationFailed
from returns_service.common.money import format_money, parse_money
from returns_service.console import bp
from returns_service.console.access import current_actor, may, permission_required
from returns_service.console.formerrors import form_errors, refuse
from returns_service.console.forms import ManualRefundForm
from returns_service.db import db
from returns_service.refunds.services import record_manual_refund, still_owed
from returns_service.returns.models import Return
from returns_service.returns.services import get_return
from workflows.returns import InvalidTransition, can_fire

CONFLICT = ("This return was changed by someone else meanwhile. The page now shows the "
            "latest figures: check them and send again.")


def _page(ret: Return, form: ManualRefundForm, status: int = 200) -> Any:
    return render_template(
        "console/manual_refund.html", ret=ret, form=form, errors=form_errors(form),
        owed=format_money(still_owed(ret), ret.order.currency),
        may_over_refund=may(current_user, "refund.over_refund"),
        allowed=can_fire(ret.status, "record_manual_refund")), status


def _return_or_404(rma: str) -> Return:
    try:
        return get_return(rma)
    except NotFound:
        abort(404)


@bp.get("/returns/<rma>/refund/manual")
@permission_required("refund.record_manual")
def manual_refund(rma: str) -> Any:
    ret = _return_or_404(rma)
    owed = still_owed(ret)
    form = ManualRefundForm(formdata=None, expected_version=str(ret.version),
                            amount=format_money(owed, ret.order.currency) if owed else "")
    return _page(ret, form)


@bp.post("/returns/<rma>/refund/manual")
@permission_required("refund.record_manual")
def record_manual(rma: str) -> Any:
    ret = _return_or_404(rma)
    form = ManualRefundForm()
    if not may(current_user, "refund.over_refund"):
        form.over_refund_reason.data = None  # not shown to agents: nothing to send
    if not form.validate_on_submit():
        return _page(ret, form, 422)
    try:
        amount = parse_money(form.amount.data or "", ret.order.currency)
    except ValueError as exc:
        form.amount.errors = [str(exc)]
        return _page(ret, form, 422)
    try:
        record_manual_refund(rma, current_actor(), amount=amount,
                             reference=form.reference.data or "",
                             note=form.note.data or None,
                             over_refund_reason=form.over_refund_reason.data or None,
                             expected_version=form.version())
        db.session.commit()
    except ValidationFailed as exc:
        refuse(form, exc)
        return _page(_return_or_404(rma), form, 422)
    except (EditConflict, InvalidTransition) as exc:
        db.session.rollback()
        flash(CONFLICT if isinstance(exc, EditConflict) else f"Not possible now: {exc}.",
              "error")
        latest = _return_or_404(rma)
        form.expected_version.data = str(latest.version)
        return _page(latest, form, 409)
    flash(f"Recorded a refund of {format_money(amount, ret.order.currency)} made outside "
          f"Stripe for {rma}.", "success")
    return redirect(url_for("console.detail", rma=rma))
