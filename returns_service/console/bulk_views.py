"""Bulk actions on the queue: approve, reject with a reason, or assign the selected returns.

Each return is checked (permission, status, the reason) and written in its own
transaction, with its own audit event, as if the agent had acted on its page: one return
that cannot be changed does not stop the others, and the page says which and why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, request, url_for
from flask_login import current_user

from returns_service.common.errors import DomainError
from returns_service.console import bp
from returns_service.console.access import current_actor, may, permission_required
from returns_service.console.workspace import BULK_ACTIONS, bulk_form
from returns_service.conversations import work
from returns_service.db import db
from returns_service.returns import services as returns
from workflows.returns import InvalidTransition

MAX_SELECTED = 200
ACTION_PERMISSION = {"approve": "return.approve", "reject": "return.reject",
                     "assign": "return.assign"}


def _change_for(action: str, form: Any) -> Callable[[str], Any]:
    actor, note = current_actor(), (form.note.data or "").strip() or None
    if action == "approve":
        return lambda rma: returns.approve_return(rma, actor, note=note)
    if action == "reject":
        return lambda rma: returns.reject_return(rma, actor, reason=form.reason.data or "",
                                                 note=note)
    value = form.assignee.data or ""
    to_id = int(value) if value.isdigit() else None
    return lambda rma: work.assign(returns.get_return(rma), to_id, by=current_user)


def _why(exc: Exception) -> str:
    if isinstance(exc, InvalidTransition):
        return str(exc)
    errors = getattr(exc, "errors", None)
    if errors:
        return "; ".join(m for messages in errors.values() for m in messages)
    return getattr(exc, "detail", None) or str(exc)


@bp.post("/returns/bulk")
@permission_required("queue.bulk")
def bulk() -> Any:
    form = bulk_form(current_user, request.form)
    back = request.form.get("next") or url_for("console.queue")
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("console.queue")
    rmas = list(dict.fromkeys(r for r in request.form.getlist("rma") if r))[:MAX_SELECTED]
    if not form.validate_on_submit():
        for name, messages in form.errors.items():
            flash(f"{getattr(form, name).label.text}: {' '.join(messages)}", "error")
        return redirect(back)
    if not rmas:
        flash("Select at least one return.", "error")
        return redirect(back)
    action = form.action.data
    if action == "reject" and not form.reason.data:
        flash("Choose a rejection reason for a bulk reject.", "error")
        return redirect(back)
    if not may(current_user, ACTION_PERMISSION[action]):
        flash(f"You may not {BULK_ACTIONS[action].lower()} returns.", "error")
        return redirect(back)
    change = _change_for(action, form)
    done: list[str] = []
    failed: list[tuple[str, str]] = []
    for rma in rmas:
        try:
            change(rma)
            db.session.commit()  # each return on its own: a failure further on keeps it
            done.append(rma)
        except (DomainError, InvalidTransition) as exc:
            db.session.rollback()
            failed.append((rma, _why(exc)))
    verb = {"approve": "Approved", "reject": "Rejected", "assign": "Assigned"}[action]
    if done:
        flash(f"{verb} {len(done)} of {len(rmas)} returns.", "success")
    for rma, why in failed:
        flash(f"{rma} not changed: {why}", "error")
    return redirect(back)
