"""Customer pages after sending: finding a return again, and its status page with what the
customer can do there (choose refund or credit, write to us, opt in to SMS, download the slip,
label or QR code, see their photos and attachments, cancel). Each page takes its return from
the signed link in its URL (`from_link`).
"""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from returns_service.common.errors import NotFound, ValidationFailed
from returns_service.conversations import sms
from returns_service.conversations.attachments import attachment_file
from returns_service.conversations.services import messages_of, post_customer_message
from returns_service.conversations.twilio_sms import configured as sms_configured
from returns_service.credits.services import balance, credit_for_return
from returns_service.db import db
from returns_service.feedback.services import can_rate, feedback_token
from returns_service.http.extensions import limiter
from returns_service.http.files import file_response
from returns_service.photos.services import (
    photos_by_item,
    return_photo,
)
from returns_service.portal.forms import (
    CancelForm,
    FindReturnForm,
    MessageForm,
    ResolutionForm,
    SmsForm,
    resolution_choices,
)
from returns_service.portal.services import (
    status_view,
)
from returns_service.portal.views import (
    apply_change,
    bp,
    customer_actor,
    field_errors,
    from_link,
    limit_form_lookups,
    photo_response,
    private,
    return_from_token,
    seen_version,
)
from returns_service.returns.links import status_token
from returns_service.returns.services import (
    cancel_return,
    choose_resolution,
    find_customer_return,
)
from returns_service.shipping.services import (
    SLIP_STATUSES,
    shipment_of,
    shipping_view,
    slip_pdf,
)
from returns_service.storage import FileNotStored, storage
from workflows.returns import InvalidTransition


@bp.route("/returns/find", methods=["GET", "POST"])
@limit_form_lookups
def find_return() -> Any:
    form = FindReturnForm()
    if form.validate_on_submit():
        try:
            ret = find_customer_return(form.rma.data, form.email.data)
        except NotFound as exc:
            form.form_errors.append(_(exc.detail))  # RETURN_NOT_FOUND, in the catalogues
        else:
            return redirect(url_for(".status", token=status_token(ret.rma)))
    return render_template("portal/find.html", form=form), 422 if form.errors else 200


@bp.get("/returns/status/<token>")
@from_link
def status(ret: Any, token: str) -> Any:
    return _status_page(ret, token)


def _status_page(ret: Any, token: str, form: MessageForm | None = None,
                 status: int = 200, sms_form: SmsForm | None = None,
                 resolution_form: ResolutionForm | None = None) -> Any:
    survey = (url_for("feedback.survey", token=feedback_token(ret.rma))
              if can_rate(ret) else None)
    shown = status_view(ret)
    if resolution_form is None:
        resolution_form = ResolutionForm(formdata=None, resolution=ret.resolution,
                                         version=ret.version)
    resolution_form.resolution.choices = resolution_choices(shown["offer"], shown["currency"])
    credit = None
    if ret.status == "credited":
        code = credit_for_return(db.session, ret.id)
        if code is not None:
            credit = {"code": code.code, "balance": balance(db.session, code.id)}
    # The conversation only: staff internal notes live in another table, never read here.
    return render_template("portal/status.html", ret=shown, return_=ret,
                           token=token, survey_url=survey, messages=messages_of(ret.id),
                           message_form=form or MessageForm(formdata=None),
                           sms_form=(sms_form or SmsForm(formdata=None))
                           if sms_configured() else None,
                           sms_phone=sms.active_phone(ret.id),
                           resolution_form=resolution_form, credit=credit,
                           photos=photos_by_item(ret.id),
                           shipping=shipping_view(ret)), status


@bp.get("/returns/status/<token>/photos/<int:photo_id>")
def status_photo(token: str, photo_id: int) -> Any:
    """A photo of this return, for the customer holding its signed status link."""
    ret = return_from_token(token)
    if isinstance(ret, tuple):
        return ret
    photo = return_photo(ret.id, photo_id)
    if photo is None:
        abort(404)
    return photo_response(photo)


@bp.get("/returns/status/<token>/messages/<int:message_id>/attachments/<int:index>")
def status_attachment(token: str, message_id: int, index: int) -> Any:
    """A file the customer attached to one of their emails about this return."""
    ret = return_from_token(token)
    if isinstance(ret, tuple):
        return ret
    try:
        name, stored = attachment_file(ret.id, message_id, index)
    except FileNotStored:
        abort(404)
    return file_response(stored, name)


@bp.post("/returns/status/<token>/resolution")
@from_link
def change_resolution(ret: Any, token: str) -> Any:
    """Refund ↔ store credit, until the payout starts."""
    form = ResolutionForm()
    form.resolution.choices = resolution_choices(status_view(ret)["offer"],
                                                 ret.order.currency)
    if not form.validate_on_submit():
        return _status_page(ret, token, status=422, resolution_form=form)
    return apply_change(
        token,
        lambda: choose_resolution(ret.rma, form.resolution.data, customer_actor(ret),
                                  expected_version=seen_version(form)),
        done=_("Your choice is saved."), refused=ValidationFailed,
        refused_message=_("That choice is not available for this return."))


def _message_limit() -> str:
    return str(current_app.config["RATELIMIT_MESSAGES"])


@bp.post("/returns/status/<token>/message")
@limiter.limit(_message_limit, scope="customer-message",
               error_message="Too many messages from this address. Try again later.")
@from_link
def send_message(ret: Any, token: str) -> Any:
    """The customer writes to us from the status page: the return waits on us."""
    form = MessageForm()
    if not form.validate_on_submit():
        return _status_page(ret, token, form, 422)
    try:
        post_customer_message(ret, form.body.data, channel="web")
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        # The service's only refusal is an empty message: said in the customer's language.
        form.body.errors = [_("Write your message.")] if exc.errors.get("body") \
            else field_errors(exc)
        return _status_page(ret, token, form, 422)
    flash(_("Thank you: your message is sent. We will answer here and by email."), "success")
    return redirect(url_for(".status", token=token) + "#conversation")


@bp.post("/returns/status/<token>/sms")
@limiter.limit(_message_limit, scope="customer-message",
               error_message="Too many messages from this address. Try again later.")
@from_link
def sms_opt_in(ret: Any, token: str) -> Any:
    """The customer opts in to SMS about this return."""
    form = SmsForm()
    if not sms_configured():
        return redirect(url_for(".status", token=token))
    if not form.validate_on_submit():
        return _status_page(ret, token, status=422, sms_form=form)
    try:
        phone = sms.opt_in(ret, form.phone.data)
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        # A number the service cannot read, in the customer's language.
        form.phone.errors = [_("Enter the number with its country code, e.g. "
                               "+44 7700 900123.")] if exc.errors.get("phone") \
            else field_errors(exc)
        return _status_page(ret, token, status=422, sms_form=form)
    flash(_("We will text %(phone)s about this return. Text STOP to stop.", phone=phone),
          "success")
    return redirect(url_for(".status", token=token) + "#conversation")


@bp.get("/returns/status/<token>/slip.pdf")
@from_link
def slip(ret: Any, token: str) -> Any:
    """The printable return slip, while a parcel is still to be sent."""
    if ret.status not in SLIP_STATUSES:
        flash(_("This return needs no parcel any more, so it has no slip."), "error")
        return redirect(url_for(".status", token=token))
    return private(Response(slip_pdf(ret), mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="return-slip-{ret.rma}.pdf"'}))


@bp.get("/returns/status/<token>/label")
@from_link
def label(ret: Any, token: str) -> Any:
    """The prepaid return label, once bought."""
    shown = shipping_view(ret)
    shipment = shipment_of(ret)
    if not shown or not shown["label"] or shipment is None or shipment.label_key is None:
        flash(_("There is no return label to download for this return."), "error")
        return redirect(url_for(".status", token=token))
    try:
        stored = storage().get(shipment.label_key)
    except FileNotStored:  # the file went missing from storage: say so, never a 500
        flash(_("Your label cannot be downloaded right now; please use the return slip, or "
                "reply to our email."), "error")
        return redirect(url_for(".status", token=token))
    extension = shipment.label_key.rsplit(".", 1)[-1]
    return private(Response(stored.data, mimetype=stored.content_type, headers={
        "Content-Disposition": f'attachment; filename="return-label-{ret.rma}.{extension}"'}))


@bp.get("/returns/status/<token>/qr-code")
def qr_code(token: str) -> Any:
    """The label's QR code (shown on the status page), where the carrier offers one."""
    ret = return_from_token(token)
    if isinstance(ret, tuple):
        return ret
    shown = shipping_view(ret)
    shipment = shipment_of(ret)
    if not shown or not shown["qr_code"] or shipment is None or shipment.qr_code_key is None:
        return redirect(url_for(".status", token=token))
    try:
        stored = storage().get(shipment.qr_code_key)
    except FileNotStored:  # gone from storage: the page offers the printed label instead
        return redirect(url_for(".status", token=token))
    return private(Response(stored.data, mimetype=stored.content_type))


@bp.get("/returns/status/<token>/cancel")
@from_link
def confirm_cancel(ret: Any, token: str) -> Any:
    """Ask before cancelling (no script needed): one more button, or back to the status."""
    shown = status_view(ret)
    if not shown["can_cancel"]:
        flash(_("This return can no longer be cancelled."), "error")
        return redirect(url_for(".status", token=token))
    seen = request.args.get("version", "")  # the version the status page showed
    version = int(seen) if seen.isdigit() else ret.version
    return render_template("portal/cancel.html", ret=shown, token=token,
                           form=CancelForm(formdata=None, version=version))


@bp.post("/returns/status/<token>/cancel")
@from_link
def cancel(ret: Any, token: str) -> Any:
    form = CancelForm()
    form.validate()
    return apply_change(
        token,
        lambda: cancel_return(ret.rma, customer_actor(ret),
                              note="Cancelled by the customer on the status page.",
                              expected_version=seen_version(form)),
        done=_("Your return is cancelled."), refused=InvalidTransition,
        refused_message=_("This return can no longer be cancelled."))
