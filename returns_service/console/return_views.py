"""Agent pages: the decision queue, a return's whole story, its actions, refund problems."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import Form, IntegerField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from returns_service.api.present import refunds_of
from returns_service.common.errors import EditConflict, Forbidden, NotFound, ValidationFailed
from returns_service.common.money import format_money, parse_money
from returns_service.console import bp
from returns_service.console import services as console
from returns_service.console.access import current_actor, permission_required
from returns_service.console.formerrors import refuse
from returns_service.console.forms import (
    AdjustForm,
    ApproveForm,
    CancelForm,
    RejectForm,
    RetryForm,
    options,
    reason_options,
)
from returns_service.console.workspace import bulk_form, workspace_context
from returns_service.conversations.macros import get_macro
from returns_service.conversations.work import VIEWS
from returns_service.db import db
from returns_service.exchanges.services import exchanges_of
from returns_service.photos.services import photos_by_item
from returns_service.refunds.adjustments import ADJUSTABLE, adjust_payout, adjustments_of
from returns_service.refunds.breakdown import refund_breakdown
from returns_service.returns import services as returns
from returns_service.returns.models import Return
from returns_service.returns.services import CHANNELS
from returns_service.shipping.services import shipment_of
from returns_service.staff.permissions import user_may
from workflows.returns import InvalidTransition, Status

CONFLICT = ("This return was changed by someone else while you were looking at it. "
            "The page now shows the latest version: check it and try again.")


class QueueFilters(Form):
    """The queue's GET filters (no CSRF: reading only)."""

    status = SelectField(choices=options(
        [("requested", "Awaiting decision"), ("all", "Any status")]
        + [(s.value, s.value.replace("_", " ").capitalize()) for s in Status
           if s != Status.REQUESTED]), default="requested",
                         validators=[Optional()])
    channel = SelectField(choices=options(
        [("", "Any channel"), *((c, c.title()) for c in CHANNELS)]),
                          default="", validators=[Optional()])
    reason = SelectField(default="", validators=[Optional()])
    q = StringField(validators=[Optional()])
    page = IntegerField(default=1, validators=[Optional(), NumberRange(min=1, max=100000)])
    per_page = IntegerField(default=25, validators=[Optional(), NumberRange(min=1, max=100)])
    view = SelectField(choices=options(VIEWS.items()), default="all", validators=[Optional()])


@bp.get("/returns")
@permission_required("console.decide")
def queue() -> Any:
    policy = returns.current_policy()
    filters = QueueFilters(request.args)
    filters.reason.choices = reason_options(policy.reasons, "Any reason")
    filters.validate()
    status = filters.status.data if not filters.status.errors else "requested"
    result = console.decision_queue(
        status=None if status == "all" else status,
        channel=None if filters.channel.errors else filters.channel.data,
        reason=None if filters.reason.errors else filters.reason.data,
        q=filters.q.data, page=1 if filters.page.errors else (filters.page.data or 1),
        per_page=25 if filters.per_page.errors else (filters.per_page.data or 25),
        view="all" if filters.view.errors else (filters.view.data or "all"),
        user_id=current_user.id)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    view_args = {k: v for k, v in args.items() if k != "view"}
    return render_template("console/queue.html", result=result, filters=filters, args=args,
                           view_args=view_args, views=VIEWS, reason_label=console.reason_label,
                           bulk_form=bulk_form(current_user))


@bp.get("/returns/<rma>")
@permission_required("console.sign_in")
def detail(rma: str) -> Any:
    # ?macro=<id> (the "Use macro" button): the reply box comes filled in from the macro.
    macro_id = request.args.get("macro", "")
    macro = get_macro(int(macro_id)) if macro_id.isdigit() else None
    return render_detail(_get(rma), macro=macro)


def _get(rma: str) -> Return:
    try:
        return returns.get_return(rma)
    except NotFound:
        abort(404)


def render_detail(ret: Return, status: int = 200, macro: Any = None,
                  **forms: FlaskForm) -> Any:
    """The return page, with fresh action forms unless a failed one is passed back."""
    workspace = workspace_context(ret, current_user, macro=macro, **{
        name: form for name, form in forms.items() if name.endswith("_form")})
    policy = returns.current_policy()
    version = {"expected_version": ret.version}
    reject = forms.get("reject") or RejectForm(formdata=None, **version)
    reject.reason.choices = reason_options(policy.rejection_reasons, "Choose a reason")
    estimate = refund_breakdown(ret, estimate=True) if ret.refund_amount is None else None
    adjust = forms.get("adjust") or AdjustForm(formdata=None, **version)
    adjust.reason.choices = adjustment_options(policy)
    return render_template(
        "console/detail.html", ret=ret, order=ret.order,
        history=console.customer_history(ret), notes=console.eligibility_notes(ret),
        estimate=estimate, refunds=refunds_of(ret), events=returns.events_of(ret),
        actions=console.actions_for(ret, current_user), reason_label=console.reason_label,
        rejection_label=console.rejection_reason_label, money=format_money,
        approve_form=forms.get("approve") or ApproveForm(formdata=None, **version),
        reject_form=reject,
        cancel_form=forms.get("cancel") or CancelForm(formdata=None, **version),
        retry_form=forms.get("retry") or RetryForm(formdata=None, **version),
        adjust_form=adjust, adjustments=adjustments_of(ret) if ret.adjustment_amount else [],
        adjustment_label=lambda code: getattr(policy.adjustments.reason(code), "label", code),
        can_adjust=ret.status in ADJUSTABLE and user_may(current_user, "return.adjust"),
        **workspace,
        shipment=shipment_of(ret), label_form=FlaskForm(formdata=None),
        exchanges=exchange_rows(ret), photos=photos_by_item(ret.id),
    ), status


def exchange_rows(ret: Return) -> list[dict[str, Any]]:
    """The return's exchanges with their price difference and exchange order."""
    return [{"exchange": e, "order": e.order} for e in exchanges_of(ret.id)]


def adjustment_options(policy: Any) -> list[tuple[str, str]]:
    """The policy's adjustment reasons, value "kind:code", grouped by what they do."""
    what = {"goodwill": "Add", "deduction": "Deduct"}
    return [("", "Choose…"), *((f"{r.kind}:{r.code}", f"{what[r.kind]}: {r.label}")
                               for r in policy.adjustments.reasons)]


def act(rma: str, name: str, form: FlaskForm, change: Callable[[int | None], Return],
        done: str) -> Any:
    """Validate, make one service call, commit; on failure show the fresh page with why."""
    if not form.validate_on_submit():
        return render_detail(_get(rma), 422, **{name: form})
    try:
        ret = change(form.version())  # type: ignore[attr-defined]
        db.session.commit()
    except EditConflict:
        db.session.rollback()
        flash(CONFLICT, "error")
        # The page shows what changed; what the agent typed stays in the form, which now acts
        # on the latest version, so sending it again is a choice made after seeing that.
        latest = _get(rma)
        form.expected_version.data = str(latest.version)  # type: ignore[attr-defined]
        return render_detail(latest, 409, **{name: form})
    except InvalidTransition as exc:
        db.session.rollback()
        flash(f"Not possible now: {exc}. The page shows the current status.", "error")
        return render_detail(_get(rma), 409)
    except ValidationFailed as exc:
        refuse(form, exc)
        return render_detail(_get(rma), 422, **{name: form})
    except NotFound:
        db.session.rollback()
        abort(404)
    except Forbidden as exc:
        db.session.rollback()
        flash(exc.detail, "error")
        return render_detail(_get(rma), 403, **{name: form})
    flash(done.format(rma=ret.rma), "success")
    return redirect(url_for("console.detail", rma=ret.rma))


@bp.post("/returns/<rma>/approve")
@permission_required("return.approve")
def approve(rma: str) -> Any:
    form = ApproveForm()
    return act(rma, "approve", form, lambda v: returns.approve_return(
        rma, current_actor(), note=form.note.data or None, expected_version=v),
        "Approved {rma}. " + (
            "The customer is told how to send it back." if current_app.config.get("SMTP_URL")
            else "The email to the customer waits until SMTP_URL is set."))


@bp.post("/returns/<rma>/reject")
@permission_required("return.reject")
def reject(rma: str) -> Any:
    form = RejectForm()
    form.reason.choices = reason_options(returns.current_policy().rejection_reasons,
                                         "Choose a reason")
    return act(rma, "reject", form, lambda v: returns.reject_return(
        rma, current_actor(), reason=form.reason.data, note=form.note.data,
        expected_version=v), "Rejected {rma}.")


@bp.post("/returns/<rma>/cancel")
@permission_required("return.cancel")
def cancel(rma: str) -> Any:
    form = CancelForm()
    return act(rma, "cancel", form, lambda v: returns.cancel_return(
        rma, current_actor(), note=form.note.data or None, expected_version=v),
        "Cancelled {rma}.")


@bp.post("/returns/<rma>/retry-refund")
@permission_required("refund.retry")
def retry_refund(rma: str) -> Any:
    form = RetryForm()
    return act(rma, "retry", form, lambda v: console.retry_refund(
        rma, current_actor(), expected_version=v), "Started a new refund attempt for {rma}.")


@bp.post("/returns/<rma>/adjust")
@permission_required("return.adjust")
def adjust(rma: str) -> Any:
    """Goodwill or a deduction on the payout; above the policy's agent limit, admins only."""
    form = AdjustForm()
    form.reason.choices = adjustment_options(returns.current_policy())
    currency = _get(rma).order.currency

    def change(version: int | None) -> Return:
        kind, _, code = (form.reason.data or "").partition(":")
        try:
            amount = parse_money(form.amount.data or "", currency)
        except ValueError as exc:
            raise ValidationFailed({"amount": [str(exc)]}) from None
        return adjust_payout(rma, current_actor(), kind=kind, amount=amount, reason=code,
                             note=form.note.data, expected_version=version,
                             above_limit_allowed=user_may(current_user,
                                                          "return.adjust_above_limit"))

    return act(rma, "adjust", form, change, "Adjusted the payout of {rma}.")


@bp.get("/refunds/problems")
@permission_required("refund.retry")
def refund_problems() -> Any:
    problems = console.refund_problems()
    forms = {p.ret.rma: RetryForm(formdata=None, expected_version=p.ret.version)
             for p in problems}
    return render_template("console/refund_problems.html", problems=problems, forms=forms)
