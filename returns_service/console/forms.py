"""Console forms (Flask-WTF: every POST form carries a CSRF token)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from returns_service.returns.policy import CONDITIONS, Reason
from returns_service.staff.models import ROLES


def options(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """(value, label) pairs as wtforms SelectChoice options."""
    return [SelectChoice(value, label) for value, label in pairs]


def reason_options(reasons: Iterable[Reason], blank: str) -> list[SelectChoice]:
    return options([("", blank), *((r.code, r.label) for r in reasons)])


CONDITION_LABELS = {"resellable": "Resellable", "damaged": "Damaged",
                    "wrong_item": "Wrong item", "missing": "Missing"}


class LoginForm(FlaskForm):
    email = StringField("Email", validators=[InputRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[InputRequired()])
    next = HiddenField()


class LogoutForm(FlaskForm):
    """Sign-out is a POST, so another site cannot sign staff out."""


class VersionedForm(FlaskForm):
    """An action on a return, made against the version the agent was looking at."""

    expected_version = HiddenField(validators=[InputRequired()])

    def version(self) -> int | None:
        value = (self.expected_version.data or "").strip()
        return int(value) if value.isdigit() else None


class ApproveForm(VersionedForm):
    # The approval email and the status page show it to the customer: the label says so, and
    # which action it goes with (the return page has one note per action).
    note = TextAreaField("Note to the customer (approval, optional)",
                         validators=[Optional(), Length(max=2000)])


class RejectForm(VersionedForm):
    reason = SelectField("Reason", validators=[InputRequired(message="Choose a reason.")])
    note = TextAreaField("Note to the customer (rejection)",
                         validators=[InputRequired(message="Tell the customer why."),
                                     Length(max=2000)])


class CancelForm(VersionedForm):
    note = TextAreaField("Note to the customer (cancellation, optional)",
                         validators=[Optional(), Length(max=2000)])


class RetryForm(VersionedForm):
    pass


class AdjustForm(VersionedForm):
    """Goodwill added to, or a deduction from, what a return pays out (amount as people write
    it, in the order's currency)."""

    reason = SelectField("Adjustment", validators=[InputRequired(message="Choose a reason.")])
    amount = StringField("Amount", validators=[
        InputRequired(message="Enter the amount."), Length(max=32)])
    note = TextAreaField("Note for staff (optional)", validators=[Optional(), Length(max=2000)])


class ManualRefundForm(VersionedForm):
    """A refund made outside Stripe; the amount in the order's currency, as people write it."""

    amount = StringField("Amount paid back", validators=[
        InputRequired(message="Enter the amount paid back."), Length(max=32)])
    reference = StringField("Reference", validators=[
        InputRequired(message="Say where the money went (transfer or voucher reference)."),
        Length(max=255)])
    note = TextAreaField("Note for staff (optional)", validators=[Optional(), Length(max=2000)])
    over_refund_reason = TextAreaField("Reason for paying more than is owed (admins only)",
                                       validators=[Optional(), Length(max=500)])


class ReceiveItemForm(Form):
    sku = HiddenField()
    quantity = IntegerField("Received quantity",
                            validators=[InputRequired(message="Enter how many arrived."),
                                        NumberRange(min=0, message="Cannot be negative.")])
    # No default: a person looks at each item and says how it arrived (one Enter must not
    # refund and restock a damaged item as resellable).
    condition = SelectField("Condition", choices=options(
        [("", "Choose a condition"), *((c, CONDITION_LABELS[c]) for c in CONDITIONS)]),
        validators=[InputRequired(message="Choose the condition the item arrived in.")])
    restock = SelectField("Restock", choices=options(
        [("", "Choose"), ("yes", "Yes"), ("no", "No")]),
        validators=[InputRequired(message="Choose whether the item goes back into stock.")])
    note = StringField("Note", validators=[Optional(), Length(max=1000)])


class ReceiveForm(VersionedForm):
    items = FieldList(FormField(ReceiveItemForm))
    note = TextAreaField("Note on the parcel (optional)",
                         validators=[Optional(), Length(max=2000)])


class AssistedItemForm(Form):
    sku = HiddenField()
    quantity = IntegerField("Quantity to return", default=0,
                            validators=[Optional(), NumberRange(min=0)])
    reason = SelectField("Reason", validate_choice=False)  # the policy check says which
    comment = StringField("Customer's words", validators=[Optional(), Length(max=2000)])


class AssistedReturnForm(FlaskForm):
    order_number = HiddenField()
    email = HiddenField()
    # One per form shown: sent twice (double click), it still creates one return.
    request_key = HiddenField(default=lambda: secrets.token_urlsafe(16),
                              validators=[Length(max=64)])
    channel = SelectField("Contact channel", choices=options([
        ("phone", "Phone"), ("email", "Email"), ("chat", "Chat")]))
    items = FieldList(FormField(AssistedItemForm))


class UserCreateForm(FlaskForm):
    email = StringField("Email", validators=[InputRequired(), Length(max=254)])
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", choices=options((r, r.title()) for r in ROLES))
    password = PasswordField("Password", validators=[
        InputRequired(), Length(min=12, message="Use at least 12 characters.")])


class UserActiveForm(FlaskForm):
    active = BooleanField()


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes (each with its own label)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def webhook_event_choices() -> list[SelectChoice]:
    from returns_service.integrations.events import EVENT_TYPES

    return options([("*", "All events, including those added later"),
                    *((name, name) for name in EVENT_TYPES)])


class WebhookEndpointForm(FlaskForm):
    url = StringField("Endpoint URL", validators=[InputRequired(), Length(max=2000)])
    description = StringField("Description", validators=[Optional(), Length(max=500)])
    event_types = MultiCheckboxField("Events to send", choices=webhook_event_choices(),
                                     validators=[InputRequired(
                                         message="Choose at least one event.")])


class WebhookActionForm(FlaskForm):
    """A button that changes something (CSRF token only)."""


class PersonalDataForm(FlaskForm):
    """One customer's personal data: export it, or erase it after a confirmation step."""

    email = StringField("Customer email", validators=[InputRequired(), Length(max=254)])
    action = HiddenField()  # export, erase (asks to confirm), confirm_erase


class BrandForm(FlaskForm):
    """The Branding page (admins): empty fields fall back to their settings. The service
    checks every field (branding.services), so all refusals show at once."""

    store_name = StringField("Store name")
    primary_color = StringField("Primary colour")
    logo = FileField("Logo")
    remove_logo = BooleanField("Remove the current logo")
    support_email = StringField("Support email")
    support_phone = StringField("Support phone")
    terms_url = StringField("Terms and conditions link")
    privacy_url = StringField("Privacy policy link")
