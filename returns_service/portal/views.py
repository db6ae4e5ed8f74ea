"""Customer pages: start → choose items → review → confirmation, and what the pages after
sending share: the blueprint, the return a signed link points to (`from_link`), and how a
customer's change is applied (the status page itself is in `status_views`).

Views are thin: parse the form, make one service call, render. Between steps the draft lives
in the signed session cookie, and every submit is validated again by the return services.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import validate_csrf
from werkzeug.wrappers import Response
from wtforms.validators import ValidationError

from returns_service.common.errors import DomainError, EditConflict, NotFound, ValidationFailed
from returns_service.common.i18n import choose_language, current_language, use_order_locale
from returns_service.db import db
from returns_service.exchanges.instant import CardUnavailable, card_url, wants_card
from returns_service.exchanges.payment import PaymentUnavailable, checkout_url
from returns_service.exchanges.services import exchanges_of, instant_offered, request_exchange
from returns_service.http.files import file_response
from returns_service.http.rate_limits import limit_lookups
from returns_service.orders.services import find_customer_order
from returns_service.payments.stripe import PermanentPaymentError, TransientPaymentError
from returns_service.photos.services import (
    attach_draft_photos,
    draft_photo,
    draft_photos,
    photo_file,
    remove_draft_photo,
)
from returns_service.portal.forms import (
    FindReturnForm,
    StartForm,
    SubmitForm,
    choose_items_form,
    resolution_choices,
)
from returns_service.portal.photos import photo_hint, photos_enabled, size_text, take_photos
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
    create_return,
    current_policy,
    get_return,
)
from returns_service.storage import FileNotStored
from workflows.returns import Actor

bp = Blueprint("portal", __name__, template_folder="../templates")
DRAFT = "portal_draft"  # {"order": number, "email": email, "items": [...] or None}
SENT = "portal_sent"  # status token of the return this browser just sent


# Both lookups (order + email, RMA + email) share one budget per client address, with the
# public API's.
limit_form_lookups = limit_lookups("POST")


def return_from_token(token: str) -> Any:
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


def from_link(view: Callable[[Any, str], Any]) -> Callable[[str], Any]:
    """The view receives the return the signed link in its URL points to; an expired or
    forged link gets its error page instead, before the view runs."""
    @functools.wraps(view)
    def with_return(token: str) -> Any:
        ret = return_from_token(token)
        if isinstance(ret, tuple):
            return ret
        return view(ret, token)
    return with_return


def customer_actor(ret: Any) -> Actor:
    return Actor("customer", None, ret.order.email)


def seen_version(form: Any) -> int | None:
    """The version of the return the page showed (None: unknown, so no conflict check)."""
    return int(form.version.data) if str(form.version.data or "").isdigit() else None


def field_errors(exc: ValidationFailed) -> list[str]:
    return [message for messages in exc.errors.values() for message in messages]


def apply_change(token: str, change: Callable[[], Any], done: str,
            refused: type[Exception], refused_message: str) -> Response:
    """Apply a customer's change to their return and say how it went on the status page: a
    change made meanwhile by someone else, or one the return no longer allows, is refused
    with why, and nothing is saved."""
    try:
        change()
        db.session.commit()
        flash(done, "success")
    except EditConflict:
        db.session.rollback()
        flash(_("Your return changed while you were on this page. Please check it again."),
              "error")
    except refused:
        db.session.rollback()
        flash(refused_message, "error")
    return redirect(url_for(".status", token=token))


@bp.after_request
def private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"  # pages show personal data
    return response


@bp.errorhandler(429)
def _too_many(_exc: Exception) -> Any:
    return render_template("portal/limited.html"), 429


@bp.errorhandler(413)
def _too_large(exc: Exception) -> Any:
    """The items step with more photos than one request may carry: what to do, in the
    customer's words (the photos sent before are kept with the draft)."""
    if request.endpoint != "portal.choose_items":
        raise exc
    limit = int(current_app.config["MAX_BODY_UPLOAD_BYTES"])
    return render_template("portal/too_large.html", size=size_text(limit)), 413


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


def _items_page(form: Any, order: Any, status: int = 200, draft_key: str | None = None) -> Any:
    photos = draft_photos(draft_key) if photos_enabled() else None
    return render_template("portal/items.html", form=form, order=order,
                           lines=form.eligibility, photos=photos,
                           photo_hint=photo_hint(current_policy()) if photos is not None
                           else None), status


def _draft_key(draft: dict[str, Any]) -> str:
    """The draft's one-time key (drafts from before photos had none: given one now)."""
    if not draft.get("key"):
        draft = {**draft, "key": secrets.token_urlsafe(16)}
        session[DRAFT] = draft
    return str(draft["key"])


@bp.route("/return/items", methods=["GET", "POST"])
def choose_items() -> Any:
    found = _draft_order()
    if found is None:
        return _start_again()
    draft, order = found
    policy = current_policy()
    eligibility = line_eligibility(order, policy)
    form = choose_items_form(eligibility, policy, exchange_offers(order, eligibility))
    key = _draft_key(draft)
    if form.is_submitted():
        removing = request.form.get("remove_photo", "")
        if removing.isdigit() and _csrf_ok():
            remove_draft_photo(key, int(removing))
            db.session.commit()
            return _items_page(form, order, draft_key=key)
        items = form.chosen_items(policy)
        # Only a form this site made stores files (the CSRF token); then the photos are kept
        # even when something else needs fixing.
        photos_ok = _csrf_ok() and take_photos(form, key)
        db.session.commit()
        if items is not None and photos_ok:
            session[DRAFT] = {**session[DRAFT], "items": items}
            return redirect(url_for(".review"))
        return _items_page(form, order, 422, draft_key=key)
    if draft.get("items"):
        form.load(draft["items"])
    return _items_page(form, order, draft_key=key)


def _csrf_ok() -> bool:
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return False
    return True


@bp.get("/return/photos/<int:photo_id>")
def draft_photo_file(photo_id: int) -> Any:
    """A photo of the draft in this browser's session (its own only)."""
    draft = session.get(DRAFT) or {}
    photo = draft_photo(draft.get("key"), photo_id)
    if photo is None:
        abort(404)
    return photo_response(photo)


def photo_response(photo: Any) -> Any:
    try:
        return file_response(photo_file(photo))
    except FileNotStored:
        abort(404)


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
            attach_draft_photos(draft.get("key"), ret)
            db.session.commit()
        except ValidationFailed as exc:  # something changed since the items step
            db.session.rollback()
            policy = current_policy()
            eligibility = line_eligibility(order, policy)
            items_form = choose_items_form(eligibility, policy,
                                           exchange_offers(order, eligibility), formdata=None)
            items_form.load(items)
            items_form.add_service_errors(exc.errors, [i["sku"] for i in items])
            return _items_page(items_form, order, 422, draft_key=draft.get("key"))
        token = status_token(ret.rma)
        session.pop(DRAFT, None)
        session[SENT] = token
        unpaid = next((e for e in exchanges_of(ret.id) if e.status == "awaiting_payment"), None)
        if unpaid is not None:
            return _pay_exchange(ret.rma, token, unpaid.id)
        card = next((e for e in exchanges_of(ret.id) if wants_card(e)), None)
        if card is not None:
            return _save_card(ret, token, card.id)
        return redirect(url_for(".confirmation", token=token))
    offers = exchange_offers(order, line_eligibility(order, current_policy()))
    photos = draft_photos(draft.get("key"))
    lines = [{**item, "line": order.line_by_sku(item["sku"]),
              "reason_label": reason_label(item["reason"]),
              "exchange": next((o for o in offers.get(item["sku"], [])
                                if o["sku"] == item.get("exchange_sku")), None),
              "difference": exchange_difference(order, item),
              "photos": photos.get(item["sku"], [])} for item in items]
    for line in lines:  # what a saved card would secure: the original's value
        if line["exchange"] is not None:
            line["value"] = (line["exchange"]["price"] * line["quantity"]
                             - (line["difference"] or 0))
    return render_template("portal/review.html", form=form, order=order, lines=lines,
                           estimate=estimate, keeps_items=draft_keeps_items(order, items),
                           instant=instant_offered(),
                           instant_days=current_policy().exchanges.instant_days), \
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
        flash(_("We could not open the payment page just now. Your return is saved: please "
                "try paying the difference again in a few minutes."), "error")
        return redirect(url_for(".status", token=token))
    exchange = next(e for e in exchanges_of(get_return(rma).id) if e.id == exchange_id)
    return render_template("portal/pay.html", rma=rma, url=url, exchange=exchange,
                           status_url=status_page)


@bp.route("/returns/<token>/pay-exchange", methods=["POST"])
@from_link
def pay_exchange(ret: Any, token: str) -> Any:
    """Pay (again) a dearer exchange's difference, from the status page."""
    unpaid = next((e for e in exchanges_of(ret.id) if e.status == "awaiting_payment"), None)
    if unpaid is None:
        return redirect(url_for(".status", token=token))
    return _pay_exchange(ret.rma, token, unpaid.id)


def _save_card(ret: Any, token: str, exchange_id: int) -> Any:
    """A page with the link to Stripe's page where the customer saves the card securing an
    instant exchange (a link, as for paying a difference). Back to the status page, with
    why, when Stripe cannot be reached now."""
    status_page = url_for(".status", token=token, _external=True)
    try:
        url = card_url(exchange_id, rma=ret.rma, email=ret.order.email,
                       success_url=f"{status_page}?card=1", cancel_url=status_page)
    except (CardUnavailable, TransientPaymentError, PermanentPaymentError):
        db.session.rollback()
        flash(_("We could not open the page to save your card just now. Your return is "
                "saved: please try again in a few minutes."), "error")
        return redirect(url_for(".status", token=token))
    exchange = next(e for e in exchanges_of(ret.id) if e.id == exchange_id)
    return render_template("portal/save_card.html", rma=ret.rma, url=url, exchange=exchange,
                           status_url=status_page,
                           days=current_policy().exchanges.instant_days)


@bp.route("/returns/<token>/save-card", methods=["POST"])
def save_card(token: str) -> Any:
    """Save the card of an instant exchange, from the status page."""
    ret = return_from_token(token)
    if isinstance(ret, tuple):
        return ret
    card = next((e for e in exchanges_of(ret.id) if wants_card(e)), None)
    if card is None:
        return redirect(url_for(".status", token=token))
    return _save_card(ret, token, card.id)


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
        except DomainError as exc:  # out of stock since the items step (or just exchanged)
            title = exc.extensions.get("variant")
            message = (_("%(title)s is out of stock. Choose another, or a refund.", title=title)
                       if title else _("This exchange is no longer possible. Choose another, "
                                       "or a refund."))
            raise ValidationFailed({f"items.{index}.exchange": [message]}) from exc


@bp.get("/return/sent/<token>")
@from_link
def confirmation(ret: Any, token: str) -> Any:
    # Relative: the page works on whatever host and port it was opened (emails keep
    # absolute links from PUBLIC_BASE_URL).
    return render_template("portal/confirmation.html", ret=status_view(ret),
                           status_link=url_for(".status", token=status_token(ret.rma)))
