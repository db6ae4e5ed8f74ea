"""Customer pages: start → choose items → review → confirmation, and the status page.

Views are thin: parse the form, make one service call, render. Between steps the draft lives
in the signed session cookie, and every submit is validated again by the return services.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from returns_service.common.errors import DomainError, EditConflict, NotFound, ValidationFailed
from returns_service.common.i18n import choose_language, current_language, use_order_locale
from returns_service.conversations import sms
from returns_service.conversations.services import messages_of, post_customer_message
from returns_service.conversations.twilio_sms import configured as sms_configured
from returns_service.credits.services import balance, credit_for_return
from returns_service.db import db
from returns_service.exchanges.payment import PaymentUnavailable, checkout_url
from returns_service.exchanges.services import exchanges_of, request_exchange
from returns_service.feedback.services import can_rate, feedback_token
from returns_service.http.extensions import limiter
from returns_service.http.rate_limits import limit_lookups
from returns_service.orders.services import find_customer_order
from returns_service.payments.stripe import PermanentPaymentError, TransientPaymentError
from returns_service.portal.forms import (
    CancelForm,
    FindReturnForm,
    MessageForm,
    ResolutionForm,
    SmsForm,
    StartForm,
    SubmitForm,
    choose_items_form,
    resolution_choices,
)
from returns_service.portal.services import (
    draft_keeps_items,
    draft_offer,
    estimate_draft,
    exchange_difference,
    exchange_offers,
    reason_label,
    status_view,
)
from returns_service.returns.eligibility import line_eligibility
from returns_service.returns.links import LinkInvalid, rma_from_token, status_token
from returns_service.returns.services import (
    cancel_return,
    choose_resolution,
    create_return,
    current_policy,
    find_customer_return,
    get_return,
)
from returns_service.shipping.services import (
    SLIP_STATUSES,
    shipment_of,
    shipping_view,
    slip_pdf,
)
from returns_service.storage import FileNotStored, storage
from workflows.returns import Actor, InvalidTransition

bp = Blueprint("portal", __name__, template_folder="../templates")
DRAFT = "portal_draft"  # {"order": number, "email": email, "items": [...] or None}
SENT = "portal_sent"  # status token of the return this browser just sent


# Both lookups (order + email, RMA + email) share one budget per client address, with the
# public API's.
limit_form_lookups = limit_lookups("POST")


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"  # pages show personal data
    return response


@bp.errorhandler(429)
def _too_many(_exc: Exception) -> Any:
    return render_template("portal/limited.html"), 429


@bp.get("/language/<code>")
def language(code: str) -> Any:
    """The language menu (plain links, no script): remember the choice, go back."""
    choose_language(code)
    back = request.args.get("next", "")
    # Only a path on this site: never an open redirect.
    if not back.startswith("/") or back.startswith("//") or "\\" in back:
        back = url_for(".start")
    return redirect(back)


# --- asking for a return --------------------------------------------------------------------

@bp.route("/", methods=["GET", "POST"])
@limit_form_lookups
def start() -> Any:
    form = StartForm()
    if form.validate_on_submit():
        try:
            order = find_customer_order(form.order_number.data, form.email.data)
        except NotFound as exc:
            form.form_errors.append(_(exc.detail))  # ORDER_NOT_FOUND, in the catalogues
        else:
            session[DRAFT] = {"order": order.number, "email": order.email, "items": None,
                              "key": secrets.token_urlsafe(16)}  # one return per draft
            return redirect(url_for(".choose_items"))
    return render_template("portal/start.html", form=form), 422 if form.errors else 200


def _draft_order() -> tuple[dict[str, Any], Any] | None:
    """The draft and its order, looked up again (number + email) on every step."""
    draft = session.get(DRAFT)
    if not draft:
        return None
    try:
        order = find_customer_order(draft["order"], draft["email"])
    except NotFound:
        session.pop(DRAFT, None)
        return None
    use_order_locale(order.locale)
    return draft, order


def _start_again() -> Response:
    flash(_("Please enter your order number and email address to start."), "error")
    return redirect(url_for(".start"))


def _items_page(form: Any, order: Any, status: int = 200) -> Any:
    return render_template("portal/items.html", form=form, order=order,
                           lines=form.eligibility), status


@bp.route("/return/items", methods=["GET", "POST"])
def choose_items() -> Any:
    found = _draft_order()
    if found is None:
        return _start_again()
    draft, order = found
    policy = current_policy()
    eligibility = line_eligibility(order, policy)
    form = choose_items_form(eligibility, policy, exchange_offers(order, eligibility))
    if form.is_submitted():
        items = form.chosen_items(policy)
        if items is not None:
            session[DRAFT] = {**draft, "items": items}
            return redirect(url_for(".review"))
        return _items_page(form, order, 422)
    if draft.get("items"):
        form.load(draft["items"])
    return _items_page(form, order)


@bp.route("/return/review", methods=["GET", "POST"])
def review() -> Any:
    found = _draft_order()
    if found is None:
        if session.get(SENT):  # sent already (back button, double click): show that return
            return redirect(url_for(".confirmation", token=session[SENT]))
        return _start_again()
    draft, order = found
    items = draft.get("items")
    if not items:
        return redirect(url_for(".choose_items"))
    estimate = estimate_draft(order, items)
    form = SubmitForm()
    choices = resolution_choices(draft_offer(order, items, estimate), order.currency)
    if len(choices) > 1:
        form.resolution.choices = choices
    else:  # nothing to choose: a refund
        del form.resolution
    if form.validate_on_submit():
        try:
            ret = create_return(order, [{k: v for k, v in item.items() if k != "exchange_sku"}
                                        for item in items],
                                channel="web", request_key=draft.get("key"),
                                actor=Actor("customer", None, order.email),
                                resolution=form.resolution.data if len(choices) > 1
                                else "refund", locale=current_language())
            _request_exchanges(ret, items)
            db.session.commit()
        except ValidationFailed as exc:  # something changed since the items step
            db.session.rollback()
            policy = current_policy()
            eligibility = line_eligibility(order, policy)
            items_form = choose_items_form(eligibility, policy,
                                           exchange_offers(order, eligibility), formdata=None)
            items_form.load(items)
            items_form.add_service_errors(exc.errors, [i["sku"] for i in items])
            return _items_page(items_form, order, 422)
        token = status_token(ret.rma)
        session.pop(DRAFT, None)
        session[SENT] = token
        unpaid = next((e for e in exchanges_of(ret.id) if e.status == "awaiting_payment"), None)
        if unpaid is not None:
            return _pay_exchange(ret.rma, token, unpaid.id)
        return redirect(url_for(".confirmation", token=token))
    offers = exchange_offers(order, line_eligibility(order, current_policy()))
    lines = [{**item, "line": order.line_by_sku(item["sku"]),
              "reason_label": reason_label(item["reason"]),
              "exchange": next((o for o in offers.get(item["sku"], [])
                                if o["sku"] == item.get("exchange_sku")), None),
              "difference": exchange_difference(order, item)} for item in items]
    return render_template("portal/review.html", form=form, order=order, lines=lines,
                           estimate=estimate, keeps_items=draft_keeps_items(order, items)), \
        422 if form.errors else 200


def _pay_exchange(rma: str, token: str, exchange_id: int) -> Any:
    """A page with the link to Stripe's page for the difference (a link, not a redirect: the
    pages' CSP lets forms post to this service only). Back to the status page, with why,
    when Stripe cannot be reached now (the customer can try again from there)."""
    status_page = url_for(".status", token=token, _external=True)
    try:
        url = checkout_url(exchange_id, rma=rma, success_url=f"{status_page}?paid=1",
                           cancel_url=status_page)
    except (PaymentUnavailable, TransientPaymentError, PermanentPaymentError):
        db.session.rollback()
        flash("We could not open the payment page just now. Your return is saved: please "
              "try paying the difference again in a few minutes.", "error")
        return redirect(url_for(".status", token=token))
    exchange = next(e for e in exchanges_of(get_return(rma).id) if e.id == exchange_id)
    return render_template("portal/pay.html", rma=rma, url=url, exchange=exchange,
                           status_url=status_page)


@bp.route("/returns/<token>/pay-exchange", methods=["POST"])
def pay_exchange(token: str) -> Any:
    """Pay (again) a dearer exchange's difference, from the status page."""
    ret = _return_from_token(token)
    if isinstance(ret, tuple):
        return ret
    unpaid = next((e for e in exchanges_of(ret.id) if e.status == "awaiting_payment"), None)
    if unpaid is None:
        return redirect(url_for(".status", token=token))
    return _pay_exchange(ret.rma, token, unpaid.id)


def _request_exchanges(ret: Any, items: list[dict[str, Any]]) -> None:
    """Swap the lines the customer chose to exchange, in the return's transaction (the stock
    is reserved with it, or nothing is saved)."""
    for index, item in enumerate(items):
        if not item.get("exchange_sku"):
            continue
        returned = next(i for i in ret.items if i.order_line.sku == item["sku"])
        try:
            request_exchange(ret, returned, item["exchange_sku"])
        except ValidationFailed:
            raise
        except DomainError as exc:  # out of stock since the items step
            raise ValidationFailed({f"items.{index}.exchange": [
                f"{exc.detail} Choose another, or a refund."]}) from exc


def _return_from_token(token: str) -> Any:
    """The return a signed link points to, or an error page (expired or not genuine)."""
    try:
        ret = get_return(rma_from_token(token))
    except LinkInvalid as exc:
        page = render_template("portal/link_invalid.html", expired=exc.expired,
                               form=FindReturnForm(formdata=None))
        return page, 410 if exc.expired else 404
    except NotFound:
        return render_template("portal/link_invalid.html", expired=False,
                               form=FindReturnForm(formdata=None)), 404
    use_order_locale(ret.locale or ret.order.locale)
    return ret


@bp.get("/return/sent/<token>")
def confirmation(token: str) -> Any:
    ret = _return_from_token(token)
    if isinstance(ret, tuple):
        return ret
    # Relative: the page works on whatever host and port it was opened (emails keep
    # absolute links from PUBLIC_BASE_URL).
    return render_template("portal/confirmation.html", ret=status_view(ret),
                           status_link=url_for(".status", token=status_token(ret.rma)))


# --- following a return ---------------------------------------------------------------------

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
def status(token: str) -> Any:
    ret = _return_from_token(token)
    if isinstance(ret, tuple):
        return ret
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
                           shipping=shipping_view(ret)), status


@bp.post("/returns/status/<token>/resolution")
def change_resolution(token: str) -> Any:
    """Refund ↔ store credit, until the payout starts."""
    ret = _return_from_token(token)
    if isinstance(ret, tuple):
        return ret
    form = ResolutionForm()
    form.resolution.choices = resolution_choices(status_view(ret)["offer"],
                                                 ret.order.currency)
    if not form.validate_on_submit():
        return _status_page(ret, token, status=422, resolution_form=form)
    version = int(form.version.data) if str(form.version.data or "").isdigit() else None
    try:
        choose_resolution(ret.rma, form.resolution.data,
                          Actor("customer", None, ret.order.email), expected_version=version)
        db.session.commit()
        flash(_("Your choice is saved."), "success")
    except EditConflict:
        db.session.rollback()
        flash(_("Your return changed while you were on this page. Please check it again."),
              "error")
    except ValidationFailed:
        db.session.rollback()
        flash(_("That choice is not available for this return."), "error")
    return redirect(url_for(".status", token=token))


def _message_limit() -> str:
    return str(current_app.config["RATELIMIT_MESSAGES"])


@bp.post("/returns/status/<token>/message")
@limiter.limit(_message_limit, scope="customer-message",
               error_message="Too many messages from this address. Try again later.")
def send_message(token: str) -> Any:
    """The customer writes to us from the status page: the return waits on us."""
    ret = _return_from_token(token)
    if isinstance(ret, tuple):
        return ret
    form = MessageForm()
    if not form.validate_on_submit():
        return _status_page(ret, token, form, 422)
    try:
        post_customer_message(ret, form.body.data, channel="web")
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        form.body.errors = [m for messages in exc.errors.values() for m in messages]
        return _status_page(ret, token, form, 422)
    flash("Thank you: your message is sent. We will answer here and by email.", "success")
    return redirect(url_for(".status", token=token) + "#conversation")


@bp.post("/returns/status/<token>/sms")
@limiter.limit(_message_limit, scope="customer-message",
               error_message="Too many messages from this address. Try again later.")
def sms_opt_in(token: str) -> Any:
    """The customer opts in to SMS about this return."""
    ret = _return_from_token(token)
    if isinstance(ret, tuple):
        return ret
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
        form.phone.errors = [m for messages in exc.errors.values() for m in messages]
        return _status_page(ret, token, status=422, sms_form=form)
    flash(f"We will text {phone} about this return. Text STOP to stop.", "success")
    return redirect(url_for(".status", token=token) + "#conversation")


@bp.get("/returns/status/<token>/slip.pdf")
def slip(token: str) -> Any:
    """The printable return slip, while a parcel is still to be sent."""
    ret = _return_from_token(token)
    if isinstance(ret, tuple):
        return ret
    if ret.status not in SLIP_STATUSES:
        flash("This return needs no parcel any more, so it has no slip.", "error")
        return redirect(url_for(".status", token=token))
    return _private(Response(slip_pdf(ret), mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="return-slip-{ret.rma}.pdf"'}))


@bp.get("/returns/status/<token>/label")
def label(token: str) -> Any:
    """The prepaid return label, once bought."""
    ret = _return_from_token(token)
    if isinstance(ret, tuple):
        return ret
    shown = shipping_view(ret)
    shipment = shipment_of(ret)
    if not shown or not shown["label"] or shipment is None or shipment.label_key is None:
        flash("There is no return label to download for this return.", "error")
        return redirect(url_for(".status", token=token))
    try:
        stored = storage().get(shipment.label_key)
    except FileNotStored:  # the file went missing from storage: say so, never a 500
        flash("Your label cannot be downloaded right now; please use the return slip, or "
              "reply to our email.", "error")
        return redirect(url_for(".status", token=token))
    extension = shipment.label_key.rsplit(".", 1)[-1]
    return _private(Response(stored.data, mimetype=stored.content_type, headers={
        "Content-Disposition": f'attachment; filename="return-label-{ret.rma}.{extension}"'}))


@bp.get("/returns/status/<token>/qr-code")
def qr_code(token: str) -> Any:
    """The label's QR code (shown on the status page), where the carrier offers one."""
    ret = _return_from_token(token)
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
    return _private(Response(stored.data, mimetype=stored.content_type))


@bp.get("/returns/status/<token>/cancel")
def confirm_cancel(token: str) -> Any:
    """Ask before cancelling (no script needed): one more button, or back to the status."""
    ret = _return_from_token(token)
    if isinstance(ret, tuple):
        return ret
    shown = status_view(ret)
    if not shown["can_cancel"]:
        flash(_("This return can no longer be cancelled."), "error")
        return redirect(url_for(".status", token=token))
    seen = request.args.get("version", "")  # the version the status page showed
    version = int(seen) if seen.isdigit() else ret.version
    return render_template("portal/cancel.html", ret=shown, token=token,
                           form=CancelForm(formdata=None, version=version))


@bp.post("/returns/status/<token>/cancel")
def cancel(token: str) -> Any:
    ret = _return_from_token(token)
    if isinstance(ret, tuple):
        return ret
    form = CancelForm()
    form.validate()
    version = int(form.version.data) if str(form.version.data or "").isdigit() else None
    try:
        cancel_return(ret.rma, Actor("customer", None, ret.order.email),
                      note="Cancelled by the customer on the status page.",
                      expected_version=version)
        db.session.commit()
        flash(_("Your return is cancelled."), "success")
    except EditConflict:
        db.session.rollback()
        flash(_("Your return changed while you were on this page. Please check it again."),
              "error")
    except InvalidTransition:
        db.session.rollback()
        flash(_("This return can no longer be cancelled."), "error")
    return redirect(url_for(".status", token=token))
