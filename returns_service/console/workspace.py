"""What the return page shows of the agents' workspace: the customer conversation, the
internal notes, the assignee, and the forms that act on them (reply with a macro, note,
assign, availability for the round robin)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from returns_service.console.forms import options, reason_options
from returns_service.conversations import macros, sms, work
from returns_service.conversations import services as conversations
from returns_service.conversations.models import Macro
from returns_service.returns.models import Return
from returns_service.staff.models import StaffUser


class ReplyForm(FlaskForm):
    body = TextAreaField("Reply to the customer",
                         validators=[InputRequired("Write a reply."), Length(max=10_000)])
    channel = SelectField("Send by", choices=options([("email", "Email"), ("sms", "SMS")]),
                          default="email", validators=[Optional()])
    macro_id = HiddenField(validators=[Optional()])


class NoteForm(FlaskForm):
    body = TextAreaField("Internal note (staff only)",
                         validators=[InputRequired("Write a note."), Length(max=10_000)])


class AssignForm(FlaskForm):
    assignee = SelectField("Assign to", validators=[Optional()])


class AvailabilityForm(FlaskForm):
    """Mark away / available (the button says which); the hidden field carries the value."""

    away = HiddenField(validators=[AnyOf(("1", "0"))])


class MacroForm(FlaskForm):
    name = TextAreaField("Name", validators=[InputRequired("Give the macro a name."),
                                             Length(max=120)])
    body = TextAreaField("Response", validators=[InputRequired("Write the response.")])
    action = SelectField("Also", choices=options(macros.ACTIONS.items()), validators=[Optional()])


def assign_choices(user: StaffUser) -> list[Any]:
    return options([("", "Nobody (unassign)"), *((str(u.id), (u.name or u.email) +
                                                 (" (me)" if u.id == user.id else ""))
                                                for u in work.assignable_staff())])


def workspace_context(ret: Return, user: StaffUser, *, macro: Macro | None = None,
                      **forms: FlaskForm) -> dict[str, Any]:
    """The template variables of the workspace panels; a macro picked fills the reply."""
    reply = forms.get("reply_form")
    if reply is None:
        reply = ReplyForm(formdata=None)
        if macro is not None:
            reply.body.data = macros.render_macro(macro, ret)
            reply.macro_id.data = str(macro.id)
    assignee = work.assignee_of(ret.id)
    assign = forms.get("assign_form") or AssignForm(
        formdata=None, assignee=str(assignee.id) if assignee else "")
    assign.assignee.choices = assign_choices(user)
    return {
        "messages": conversations.messages_of(ret.id),
        "sms_phone": sms.active_phone(ret.id),
        "internal_notes": conversations.notes_of(ret.id),
        "work_state": conversations.work_state(ret.id),
        "assignee": assignee,
        "macros": macros.list_macros(),
        "picked_macro": macro,
        "reply_form": reply,
        "note_form": forms.get("note_form") or NoteForm(formdata=None),
        "assign_form": assign,
    }


BULK_ACTIONS = {"approve": "Approve", "reject": "Reject", "assign": "Assign"}


class BulkForm(FlaskForm):
    """Many returns at once; the RMAs come as the queue's checked `rma` boxes."""

    action = SelectField("Action on the selected returns", choices=options(BULK_ACTIONS.items()),
                         validators=[InputRequired("Choose an action.")])
    reason = SelectField("Rejection reason", validators=[Optional()])
    note = TextAreaField("Note to the customer", validators=[Optional(), Length(max=2000)])
    assignee = SelectField("Assign to", validators=[Optional()])


def bulk_form(user: StaffUser, formdata: Any = None) -> BulkForm:
    from returns_service.returns.services import current_policy

    form = BulkForm(formdata=formdata) if formdata is not None else BulkForm(formdata=None)
    form.reason.choices = reason_options(current_policy().rejection_reasons, "Choose a reason")
    form.assignee.choices = assign_choices(user)
    return form
