"""Portal forms (Flask-WTF, CSRF on): shape and syntax only; the return rules stay in services."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from returns_service.common.i18n import money, policy_label
from returns_service.returns.eligibility import LineEligibility
from returns_service.returns.policy import ReturnPolicy


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


EMAIL_HINT = _l("The email address you used for the order.")
EMAIL_CHECKS = [InputRequired(_l("Enter your email address.")),
                # Shape only: the lookup itself decides whether the address is the right one.
                Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                       message=_l("Enter an email address like name@example.com.")),
                Length(max=254)]


class PortalForm(FlaskForm):
    """Adds the list the error summary shows: (id of the field to jump to, message)."""

    def error_summary(self) -> list[tuple[str | None, str]]:
        result: list[tuple[str | None, str]] = [(None, m) for m in self.form_errors]
        for field in self:
            result.extend((field.id, message) for message in field.errors)
        return result


class StartForm(PortalForm):
    order_number = StringField(
        _l("Order number"), filters=[_strip],
        description=_l("You find it in your order confirmation email."),
        validators=[InputRequired(_l("Enter your order number.")), Length(max=64)])
    email = EmailField(_l("Email address"), description=EMAIL_HINT, validators=EMAIL_CHECKS,
                       filters=[_strip])


class FindReturnForm(PortalForm):
    rma = StringField(
        _l("Return code"), filters=[_strip],
        description=_l("It starts with R-, for example R-7KQ2M4. It is in our emails about "
                       "your return."),
        validators=[InputRequired(_l("Enter your return code.")), Length(max=32)])
    email = EmailField(_l("Email address"), description=EMAIL_HINT, validators=EMAIL_CHECKS,
                       filters=[_strip])


class QuantityField(IntegerField):
    """A whole number; anything else gets a message a customer understands."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(_("Enter the quantity as a whole number, for example 1.")) from exc


class LineForm(Form):
    """One returnable order line: how many to return, why, and an optional comment."""

    quantity = QuantityField(_l("How many to return"), default=0, validators=[
        Optional(), NumberRange(min=0, message=_l("Enter 0 or more."))])
    reason = SelectField(_l("Reason"), validate_choice=False)
    comment = TextAreaField(_l("Comment (optional)"), validators=[
        Optional(), Length(max=1000, message=_l("Keep the comment under 1000 characters."))])
    # Only shown for lines the catalog offers other variants of.
    exchange = SelectField(_l("Refund or exchange"), validate_choice=False)
    # Read and kept by portal.photos as soon as the form is sent; the field gives the label,
    # the id and the messages.
    photos = MultipleFileField(_l("Photos"))


class ChooseItemsForm(PortalForm):
    """Built per order by `choose_items_form`: one `line<n>` sub-form per returnable line."""

    eligibility: list[LineEligibility]
    form_errors: list[str]
    # order line SKU -> the variants offered instead (exchanges.services.offer_for_line)
    exchange_offers: dict[str, list[dict[str, Any]]]

    def line(self, n: int) -> Any:
        return self[f"line{n}"].form

    def chosen_items(self, policy: ReturnPolicy) -> list[dict[str, Any]] | None:
        """The items the customer chose, or None with messages attached to the fields.

        SKUs come from the server's list of order lines, never from the request."""
        ok = self.validate()
        items = []
        for n, elig in enumerate(self.eligibility):
            if not elig.eligible:
                if _asked_for(f"line{n}-quantity"):  # returnable when the page was shown
                    self.form_errors.append(_("%(item)s: %(problem)s", item=elig.line.name,
                                              problem=elig.reason
                                              or _("This item cannot be returned.")))
                    ok = False
                continue
            sub = self.line(n)
            if sub.quantity.errors:
                continue
            quantity, reason = sub.quantity.data or 0, sub.reason.data or ""
            if quantity > elig.returnable_quantity:
                sub.quantity.errors.append(
                    _("You can return between 1 and %(max)s of this item.",
                      max=elig.returnable_quantity))
                ok = False
            elif quantity == 0:
                if reason:
                    sub.quantity.errors.append(_("Enter how many you are returning, or set "
                                                 "the reason back to \u201cChoose a "
                                                 "reason\u201d."))
                    ok = False
            elif policy.reason(reason) is None:
                sub.reason.errors.append(_("Choose a reason for returning this item."))
                ok = False
            else:
                item = {"sku": elig.line.sku, "quantity": quantity, "reason": reason,
                        "comment": (sub.comment.data or "").strip() or None}
                wanted = sub.exchange.data or ""
                if wanted:
                    offer = {o["sku"]: o for o in self.exchange_offers.get(elig.line.sku, [])}
                    if wanted not in offer:
                        sub.exchange.errors = [_("Choose a size or colour from the list.")]
                        ok = False
                    elif offer[wanted]["available"] < quantity:
                        sub.exchange.errors = [_("%(title)s is out of stock. Choose another, "
                                                 "or a refund.", title=offer[wanted]["title"])]
                        ok = False
                    elif not policy.exchanges.allows(reason):
                        allowed = [policy_label(r) for r in policy.reasons
                                   if policy.exchanges.allows(r.code)]
                        sub.exchange.errors = [_("Exchanges are offered for these reasons: "
                                                 "%(reasons)s. Choose a refund.",
                                                 reasons=", ".join(allowed))]
                        ok = False
                    else:
                        item["exchange_sku"] = wanted
                items.append(item)
        if ok and not items:
            self.form_errors.append(_("Choose at least one item to return: enter how many "
                                      "and pick a reason."))
            ok = False
        return items if ok else None

    def load(self, items: list[dict[str, Any]]) -> None:
        """Prefill from the saved draft (coming back from the review step)."""
        by_sku = {item["sku"]: item for item in items}
        for n, elig in enumerate(self.eligibility):
            item = by_sku.get(elig.line.sku)
            if item and elig.eligible:
                sub = self.line(n)
                sub.quantity.data, sub.reason.data = item["quantity"], item["reason"]
                sub.comment.data = item.get("comment") or ""
                sub.exchange.data = item.get("exchange_sku") or ""

    def add_service_errors(self, errors: dict[str, list[str]], skus: list[str]) -> None:
        """Attach the service's `items.<i>.<field>` messages to the matching line's fields."""
        position = {elig.line.sku: n for n, elig in enumerate(self.eligibility) if elig.eligible}
        names = {elig.line.sku: elig.line.name for elig in self.eligibility}
        for key, messages in errors.items():
            parts = key.split(".")
            sku = None
            if len(parts) == 3 and parts[0] == "items" and parts[1].isdigit() \
                    and int(parts[1]) < len(skus):
                sku = skus[int(parts[1])]
                field = "quantity" if parts[2] == "sku" else parts[2]
                if sku in position and field in ("quantity", "reason", "comment", "exchange"):
                    getattr(self.line(position[sku]), field).errors = list(messages)
                    continue
            self.form_errors.extend(
                _("%(item)s: %(problem)s", item=names[sku], problem=message)
                if sku in names else message for message in messages)

    def error_summary(self) -> list[tuple[str | None, str]]:
        """Form-level messages first, then each line's, named after the item."""
        result: list[tuple[str | None, str]] = [(None, m) for m in self.form_errors]
        for n, elig in enumerate(self.eligibility):
            if elig.eligible:
                for field in self.line(n):
                    result.extend((field.id, _("%(item)s: %(problem)s", item=elig.line.name,
                                               problem=message))
                                  for message in field.errors)
        csrf = getattr(self, "csrf_token", None)
        if csrf is not None and csrf.errors:
            result.append((None, _("Your session expired. Please try again.")))
        return result


def _asked_for(name: str) -> bool:
    """Did the form sent ask for some of this line (a quantity above 0)?"""
    value = (request.form.get(name) or "").strip()
    return value.isdigit() and int(value) > 0


def choose_items_form(eligibility: list[LineEligibility], policy: ReturnPolicy,
                      exchange_offers: dict[str, list[dict[str, Any]]] | None = None,
                      **kwargs: Any) -> ChooseItemsForm:
    """A form with one sub-form per returnable line of this order, reasons from the policy,
    and the variants a line may be exchanged for."""
    fields = {f"line{n}": FormField(LineForm) for n, e in enumerate(eligibility) if e.eligible}
    form_class = type("OrderItemsForm", (ChooseItemsForm,), fields)
    form = form_class(**kwargs)
    form.eligibility, form.form_errors = eligibility, []
    form.exchange_offers = exchange_offers or {}
    choices = [("", _("Choose a reason")), *((r.code, policy_label(r)) for r in policy.reasons)]
    for n, elig in enumerate(eligibility):
        if elig.eligible:
            form.line(n).reason.choices = choices
            form.line(n).exchange.choices = [("", _("Refund me")), *(
                (o["sku"], _("Exchange for %(title)s", title=o["title"])) for o in
                form.exchange_offers.get(elig.line.sku, []))]
    return form


RESOLUTION_LEGEND = _l("How would you like to be paid back?")


class SubmitForm(FlaskForm):
    """Send the reviewed return: the CSRF token and, when the policy offers store credit, how
    the customer wants to be paid back; the draft lives in the signed session."""

    resolution = RadioField(RESOLUTION_LEGEND, default="refund",
                            validators=[InputRequired(_l("Choose how you would like to be "
                                                         "paid back."))])


class ResolutionForm(FlaskForm):
    """Change refund ↔ store credit on the status page, until the payout starts."""

    resolution = RadioField(RESOLUTION_LEGEND,
                            validators=[InputRequired(_l("Choose how you would like to be "
                                                         "paid back."))])
    version = HiddenField()


def resolution_choices(offer: dict[str, Any], currency: str) -> list[tuple[str, str]]:
    """The radio labels, with what each choice pays: "€108.95 back to your card" or
    "€119.85 in store credit (includes a €10.90 bonus)"."""
    refund = _("Refund to my original payment: %(amount)s",
               amount=money(offer["refund"], currency))
    credit = offer.get("store_credit")
    if credit is None:
        return [("refund", refund)]
    if credit["bonus"]:
        label = _("Store credit: %(amount)s (includes a %(bonus)s bonus)",
                  amount=money(credit["total"], currency), bonus=money(credit["bonus"], currency))
    else:
        label = _("Store credit: %(amount)s", amount=money(credit["total"], currency))
    return [("refund", refund), ("store_credit", label)]


class CancelForm(FlaskForm):
    version = HiddenField()


class MessageForm(FlaskForm):
    """A message from the customer on the status page, to the agents."""

    body = TextAreaField(_l("Your message"), validators=[
        DataRequired(_l("Write your message.")),  # spaces alone are no message
        Length(max=5000, message=_l("Keep your message under 5,000 characters."))])


class SmsForm(FlaskForm):
    """The customer's opt-in to SMS about this return."""

    phone = StringField(_l("Mobile number for SMS updates"), validators=[
        DataRequired(_l("Enter your mobile number.")), Length(max=32)],
        description=_l("With the country code, e.g. +44 7700 900123. Text STOP to stop."))
