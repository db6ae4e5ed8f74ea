"""Turn a Notification into an email: Jinja2 templates (plain text + HTML) over fresh data.

The return is re-read at send time (the job runs after commit), so the email shows what the
database says now: received quantities, the refund breakdown, the customer's name.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import formataddr, formatdate
from email.utils import parseaddr as _parseaddr
from functools import lru_cache
from typing import Any

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from returns_service.branding import current_brand
from returns_service.common.i18n import (
    customer_language,
    date,
    money,
    policy_label,
    refund_statement_text,
    template_gettext,
)
from returns_service.conversations.addresses import reply_address
from returns_service.credits.services import credit_for_return
from returns_service.db import db
from returns_service.feedback.services import RATING_LABELS, RATINGS, feedback_url, rating_url
from returns_service.notifications.models import Notification
from returns_service.refunds.amounts import settled_on_return
from returns_service.returns.links import public_url, status_url
from returns_service.returns.models import Return
from returns_service.returns.services import current_policy

CONDITION_LABELS = {"resellable": _l("as new"), "damaged": _l("damaged"),
                    "wrong_item": _l("not our item"), "missing": _l("not in the parcel")}
CSAT_STEPS = ("refunded", "rejected")
# Emails to staff: their Reply-To is never a customer's reply address.
STAFF_STEPS = ("escalation_digest", "mention")


# Bodies in UTF-8, quoted-printable: readable as text, safe for any line length.
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP


class _Compat32ShortHeaders(Compat32):
    """compat32, with a short printable-ASCII header written as it is: what Header.encode
    would give back for it, without splitting and re-joining it (most of the cost of
    writing an email's dozen headers). Anything else is folded as compat32 folds it."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if (isinstance(value, str) and len(name) + len(value) + 2 <= (self.max_line_length or 78)
                and _PRINTABLE_ASCII.fullmatch(value)):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
EMAIL_POLICY = _Compat32ShortHeaders()

# Parsed once per address: an email job asks about the same few (the sender, the support
# address, the customer) several times, and the parser is pure Python.
parseaddr = lru_cache(maxsize=1024)(_parseaddr)


def envelope(note: Notification) -> tuple[str, list[str]]:
    """The SMTP envelope of `note`'s message: MAIL FROM and RCPT TO, known without parsing
    the message's headers back."""
    return parseaddr(current_app.config["MAIL_FROM"])[1], [parseaddr(note.to_email)[1]]


def build_message(note: Notification) -> Message:
    """The complete message for `note`, with a stable Message-ID per notification:
    multipart/alternative, a plain-text and an HTML part."""
    # Customer emails in the language of the return (staff digests: English).
    locale = return_locale(note.return_) if note.return_ is not None else "en"
    with customer_language(locale):
        context = {**email_context(note), **template_gettext()}
        text = render_template(f"emails/{note.step}.txt", **context)
        html = render_template(f"emails/{note.step}.html", **context)
    cfg = current_app.config
    addresses = [note.to_email, cfg["MAIL_FROM"], cfg.get("SUPPORT_EMAIL") or ""]
    if not all(parseaddr(a)[1].isascii() for a in addresses):
        return _modern_message(note, text, html)
    # The email package's compat32 classes: the same message as EmailMessage would build,
    # without parsing every header it is given back into objects (most of an email job's
    # cost of building the message, for headers this code writes itself).
    # The boundary starts with "=_", which never occurs in a quoted-printable body: the
    # generator need not search both parts for a random one that does not.
    message = MIMEMultipart("alternative", boundary=f"=_{secrets.token_hex(16)}",
                            policy=EMAIL_POLICY)
    message["Subject"] = _header(note.subject or note.step)
    message["From"] = _address(cfg["MAIL_FROM"])
    message["To"] = _address(note.to_email)
    if reply_to_of(note):
        message["Reply-To"] = _address(reply_to_of(note) or "")
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id(note)
    message.attach(MIMEText(text, "plain", _UTF8_QP, policy=EMAIL_POLICY))
    message.attach(MIMEText(html, "html", _UTF8_QP, policy=EMAIL_POLICY))
    return message


def _header(value: str) -> Any:
    return value if value.isascii() else Header(value, "utf-8")


def _address(value: str) -> str:
    name, address = parseaddr(value)
    if not name:
        return address or value
    return formataddr((name, address), charset="utf-8")


def _modern_message(note: Notification, text: str, html: str) -> EmailMessage:
    """An address beyond ASCII (an internationalised mailbox) needs the modern policy, which
    knows SMTPUTF8."""
    cfg = current_app.config
    message = EmailMessage()
    message["Subject"] = note.subject or note.step
    message["From"] = cfg["MAIL_FROM"]
    message["To"] = note.to_email
    if reply_to_of(note):
        message["Reply-To"] = reply_to_of(note)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id(note)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def reply_to_of(note: Notification) -> str | None:
    """A customer email about a return answers to the return's signed reply address (so
    the reply joins its conversation) when REPLY_DOMAIN is set; otherwise, and for staff
    emails, to SUPPORT_EMAIL."""
    if note.return_ is not None and note.step not in STAFF_STEPS:
        address = reply_address(note.return_.rma)
        if address:
            return address
    return current_app.config.get("SUPPORT_EMAIL") or None


def message_id(note: Notification) -> str:
    """Same id on every attempt, so a rare duplicate (crash after sending) is recognisable."""
    domain = parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(note.dedupe_key.encode()).hexdigest()[:16]
    return f"<notification-{note.id}.{digest}@{domain}>"


def return_locale(ret: Return) -> str | None:
    """The language the customer asked in, else the order's (else the store default)."""
    return ret.locale or ret.order.locale


def email_context(note: Notification) -> dict[str, Any]:
    cfg = current_app.config
    data = dict(note.context or {})
    brand = current_brand()
    context: dict[str, Any] = {"shop_name": brand.store_name,
                               "support_email": cfg.get("SUPPORT_EMAIL"), "data": data,
                               "subject": note.subject,
                               # Mail clients fetch the logo from the public site.
                               "logo_url": public_url(f"/brand/logo?v={brand.version}")
                               if brand.has_logo else None}
    ret = note.return_
    if ret is not None:
        context.update(return_context(ret, note.step, data))
        context["reply_address"] = reply_address(ret.rma)
    return context


def return_context(ret: Return, step: str, data: dict[str, Any]) -> dict[str, Any]:

    order, currency = ret.order, ret.order.currency
    policy = current_policy()

    def amount_text(amount: int | None) -> str:
        return money(int(amount or 0), currency)

    items = [{
        "name": item.order_line.name, "sku": item.order_line.sku, "quantity": item.quantity,
        "reason": _policy_text(policy.reason(item.reason), item.reason),
        "received_quantity": item.received_quantity,
        "condition": CONDITION_LABELS.get(item.condition or "", item.condition),
        "accepted": bool(item.received_quantity) and item.condition in
        policy.refundable_conditions,
        "unit_price": amount_text(item.order_line.unit_price),
    } for item in ret.items]
    reason = data.get("reason")
    # The refund this email is about, when it is about one (instant exchange emails queued
    # by earlier versions kept their charge here as text).
    paid_now = data.get("amount") if isinstance(data.get("amount"), int) else None
    total = paid_now if paid_now is not None else ret.refund_amount or 0
    if step == "refunded":  # all that reached the customer for this return, in parts or not

        total = max(settled_on_return(ret), total)
    earlier = total - paid_now if paid_now is not None else 0
    context: dict[str, Any] = {
        "ret": ret, "rma": ret.rma, "order_number": order.number,
        # The customers' Help page (portal), on the public site the links point to.
        "help_url": public_url("/help"),
        "name": order.customer_name, "first_name": order.customer_name.split()[0]
        if order.customer_name.strip() else _("there"),
        "items": items, "status_url": status_url(ret.rma), "money": amount_text,
        # The printable return slip and the prepaid label (shipping), from the status page.
        "slip_url": status_url(ret.rma) + "/slip.pdf",
        "label_url": status_url(ret.rma) + "/label",
        "reason_label": _policy_text(policy.rejection_reason(reason or ""), None),
        "note": data.get("note"),
        "refund": {
            "items_amount": amount_text(ret.refund_items_amount),
            "fee": amount_text(ret.restocking_fee_amount),
            "discount": amount_text(ret.refund_discount_amount),
            "has_discount": bool(ret.refund_discount_amount),
            "tax": amount_text(ret.refund_tax_amount), "has_tax": bool(ret.refund_tax_amount),
            "has_fee": bool(ret.restocking_fee_amount),
            "shipping": amount_text(ret.refund_shipping_amount),
            "has_shipping": bool(ret.refund_shipping_amount),
            "total": amount_text(total),
            "amount": ret.refund_amount or 0,
            # Paid in parts (a dashboard refund, then ours for the rest): say so.
            "has_earlier": earlier > 0, "earlier": amount_text(earlier),
            "paid_now": amount_text(paid_now),
        },
        "statement_text": refund_statement_text(),
        "expiry_days": int(current_app.config["RETURN_EXPIRY_DAYS"]),
        "return_address": current_app.config.get("RETURN_ADDRESS"),
        "expires_on": _day(data.get("expires_on")),
        # An instant exchange's charge: its amount and due day in the customer's language.
        "exchange_amount": amount_text(data["charge_amount"])
        if data.get("charge_amount") is not None else data.get("amount"),
        "due_on": _day(data.get("due")),
        "keep_item": bool(ret.keep_item),
        "payback": _payback(ret),
    }
    if step == "credited":
        code = credit_for_return(db.session, ret.id)
        context["credit"] = {
            "code": code.code if code is not None else None,
            "amount": amount_text(ret.refund_amount),
            "bonus": amount_text(ret.credit_bonus_amount),
            "has_bonus": bool(ret.credit_bonus_amount),
            "total": amount_text((ret.refund_amount or 0) + (ret.credit_bonus_amount or 0))}
    if step in CSAT_STEPS:
        context["ratings"] = [{"value": r, "label": RATING_LABELS[r], "url": rating_url(ret.rma, r)}
                              for r in RATINGS]
        context["survey_url"] = feedback_url(ret.rma)
    return context


def _payback(ret: Return) -> str | None:
    """How the customer chose to be paid back, in every email about the return, when the
    store offers a choice (else nothing: it is always a refund)."""
    if len(current_policy().resolutions()) == 1 and ret.resolution == "refund":
        return None
    if ret.resolution == "store_credit":
        return _("store credit")
    return _("a refund to your original payment method")


def _day(value: str | None) -> str | None:
    """A day stored as ISO 8601, in the customer's language (older emails stored text)."""
    try:
        return date(datetime.fromisoformat(value)) if value else value
    except ValueError:
        return value


def _policy_text(item: Any, fallback: str | None) -> str | None:
    return policy_label(item) if item is not None else fallback
