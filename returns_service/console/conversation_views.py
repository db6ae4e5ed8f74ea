"""Agent pages of the workspace: reply to the customer (with a macro), write an internal
note, claim or assign a return, the admins' macro list, and who is away from the round
robin. Thin: one service call, one commit, back to the page."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from returns_service.common.errors import EditConflict, NotFound, ValidationFailed
from returns_service.common.money import format_money
from returns_service.console import bp
from returns_service.console.access import current_actor, may, permission_required
from returns_service.console.formerrors import apply_errors, refuse
from returns_service.console.forms import options
from returns_service.console.return_views import render_detail
from returns_service.console.workspace import (
    AssignForm,
    AvailabilityForm,
    MacroForm,
    NoteForm,
    ReplyForm,
    assign_choices,
)
from returns_service.conversations import macros, round_robin, work
from returns_service.conversations import services as conversations
from returns_service.conversations.customers import customer_view, message_total
from returns_service.db import db
from returns_service.returns import services as returns
from returns_service.returns.models import Return
from workflows.returns import InvalidTransition


def _get(rma: str) -> Return:
    try:
        return returns.get_return(rma)
    except NotFound:
        abort(404)


def _back(ret: Return) -> Any:
    return redirect(url_for("console.detail", rma=ret.rma) + "#conversation")


@bp.post("/returns/<rma>/reply")
@permission_required("conversation.reply")
def reply(rma: str) -> Any:
    ret = _get(rma)
    form = ReplyForm()
    if not form.validate_on_submit():
        return render_detail(ret, 422, reply_form=form)
    macro_id = (form.macro_id.data or "").strip()
    macro = macros.get_macro(int(macro_id)) if macro_id.isdigit() else None
    approving = macro is not None and macro.action == "approve"
    try:
        if approving:
            if not may(current_user, "return.approve"):
                abort(403)
            ret = returns.approve_return(rma, current_actor(),
                                         note=f"Approved with the macro “{macro.name}”.")
        conversations.post_agent_reply(ret, current_user, form.body.data,
                                       channel=form.channel.data or "email")
        db.session.commit()
    except (InvalidTransition, EditConflict) as exc:
        db.session.rollback()
        form.body.errors = [f"Not sent: the return cannot be approved now ({exc}). "
                            "Send the reply without the macro's action, or reload."]
        form.macro_id.data = ""
        return render_detail(_get(rma), 409, reply_form=form)
    except ValidationFailed as exc:
        refuse(form, exc)
        return render_detail(_get(rma), 422, reply_form=form)
    flash(("Approved and replied." if approving else "Reply sent.") + " The customer gets it "
          + ("by SMS." if form.channel.data == "sms" else "by email."), "success")
    return _back(ret)


@bp.post("/returns/<rma>/notes")
@permission_required("conversation.note")
def add_note(rma: str) -> Any:
    ret = _get(rma)
    form = NoteForm()
    if not form.validate_on_submit():
        return render_detail(ret, 422, note_form=form)
    note = conversations.add_note(ret, current_user, form.body.data)
    db.session.commit()
    told = f" {len(note.mentions)} colleague(s) mentioned are told by email." \
        if note.mentions else ""
    flash("Internal note added." + told, "success")
    return redirect(url_for("console.detail", rma=ret.rma) + "#notes")


@bp.post("/returns/<rma>/assign")
@permission_required("return.assign")
def assign(rma: str) -> Any:
    ret = _get(rma)
    form = AssignForm()
    form.assignee.choices = [*assign_choices(current_user), *options([("me", "me")])]
    if not form.validate_on_submit():
        return render_detail(ret, 422, assign_form=form)
    value = form.assignee.data or ""
    to_id = current_user.id if value == "me" else (int(value) if value.isdigit() else None)
    try:
        assignee = work.assign(ret, to_id, by=current_user)
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return render_detail(_get(rma), 422, assign_form=form)
    flash(f"{ret.rma} is now assigned to {assignee.name or assignee.email}."
          if assignee else f"{ret.rma} is unassigned.", "success")
    return redirect(request.form.get("next") or url_for("console.detail", rma=ret.rma))


@bp.route("/macros", methods=["GET", "POST"])
@permission_required("macros.manage")
def macro_list() -> Any:
    form = MacroForm()
    status = 200
    if form.validate_on_submit():
        try:
            macros.create_macro(form.name.data, form.body.data, form.action.data)
            db.session.commit()
            flash(f"Macro “{form.name.data.strip()}” saved.", "success")
            return redirect(url_for("console.macro_list"))
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
            status = 422
    elif form.is_submitted():
        status = 422
    return render_template("console/macros.html", form=form, macros=macros.list_macros(),
                           placeholders=macros.PLACEHOLDERS, actions=macros.ACTIONS), status


@bp.post("/macros/<int:macro_id>/delete")
@permission_required("macros.manage")
def macro_delete(macro_id: int) -> Any:
    macros.delete_macro(macro_id)
    db.session.commit()
    flash("Macro deleted.", "success")
    return redirect(url_for("console.macro_list"))


@bp.get("/customers/<path:email>")
@permission_required("customers.read")
def customer(email: str) -> Any:
    """Every return, message, refund and CSAT answer of one customer email."""
    view = customer_view(email)
    if not view.orders:
        abort(404)
    return render_template("console/customer.html", view=view, money=format_money,
                           message_total=message_total(view))


@bp.get("/agents")
@permission_required("return.assign")
def agents() -> Any:
    """Who works the queue, who is away (skipped by the round robin), and the trail."""
    return render_template("console/agents.html", agents=round_robin.availability(),
                           form=AvailabilityForm(), auto_assign=round_robin.enabled(),
                           may_change=lambda uid: round_robin.may_change_availability(
                               current_user, uid),
                           changes=round_robin.changes_of)


@bp.post("/agents/<int:user_id>/availability")
@permission_required("return.assign")
def set_availability(user_id: int) -> Any:
    form = AvailabilityForm()
    if not form.validate_on_submit():
        flash("Not changed: reload the page and try again.", "error")
        return redirect(url_for("console.agents"), 303)
    if not round_robin.may_change_availability(current_user, user_id):
        abort(403)
    try:
        user = round_robin.set_away(user_id, form.away.data == "1", by=current_user)
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.detail, "error")
        return redirect(url_for("console.agents"), 303)
    who = "You are" if user.id == current_user.id else f"{user.name or user.email} is"
    state = "away: no new returns by round robin" if form.away.data == "1" else "available"
    flash(f"{who} {state}.", "success")
    return redirect(request.form.get("next") or url_for("console.agents"))
