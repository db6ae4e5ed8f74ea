"""`POST /webhooks/inbound-email/<provider>`: customers' email replies from an inbound-email
provider, joined to the conversation of the return their signed reply address names.

- `mailgun`: form fields (or `body-mime`), authenticated by Mailgun's HMAC-SHA256 of
  `timestamp + token` under MAILGUN_WEBHOOK_SIGNING_KEY; a timestamp older than 15 minutes
  is refused (a replayed request).
- `postmark` (JSON) and `sendgrid` (Inbound Parse form fields or the raw `email`): these do
  not sign, so they must send INBOUND_EMAIL_BASIC_AUTH (user:password in the URL they
  call) or use the secret URL `/webhooks/inbound-email/<provider>/<INBOUND_EMAIL_URL_SECRET>`.

Nothing is read or written before the request is authenticated. A message to an address
that is not a signed reply address is refused with the answer that tells the provider not
to retry (Mailgun 406, Postmark 403, SendGrid 200 with `refused`: it retries anything else).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from email import message_from_string
from email.policy import default as default_policy
from email.utils import parseaddr
from typing import Any

from flask import Blueprint, current_app, request
from werkzeug.wrappers import Response

from returns_service.common import metrics
from returns_service.common.errors import NotFound
from returns_service.conversations.inbound import (
    ForgedAddress,
    InboundEmail,
    html_to_text,
    parse_rfc822,
    receive_email,
)
from returns_service.db import db
from returns_service.http.problems import problem

bp = Blueprint("inbound_email_webhooks", __name__)
MAX_TIMESTAMP_AGE = 15 * 60
REFUSED_STATUS = {"mailgun": 406, "postmark": 403, "sendgrid": 200}


def _files() -> list[dict[str, Any]]:
    """The uploaded attachments: names, types, sizes and content (kept or refused by the
    conversations)."""
    found = []
    for upload in request.files.values():
        data = upload.read()
        found.append({"name": upload.filename or "attachment",
                      "content_type": upload.mimetype or "application/octet-stream",
                      "size": len(data), "data": data})
    return found


def _mailgun_verified() -> Response | None:
    key = current_app.config.get("MAILGUN_WEBHOOK_SIGNING_KEY")
    if not key:
        return problem(503, "Inbound email not configured",
                       "MAILGUN_WEBHOOK_SIGNING_KEY is not set on this service.")
    timestamp, token = request.form.get("timestamp", ""), request.form.get("token", "")
    expected = hmac.new(str(key).encode(), (timestamp + token).encode(),
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.form.get("signature", "")):
        return problem(401, "Invalid signature", "The Mailgun signature does not match.")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_TIMESTAMP_AGE:
        return problem(401, "Stale request", "The Mailgun timestamp is too old.")
    return None


def _shared_secret_ok(secret: str | None) -> Response | None:
    cfg = current_app.config
    basic, url_secret = cfg.get("INBOUND_EMAIL_BASIC_AUTH"), cfg.get("INBOUND_EMAIL_URL_SECRET")
    if not basic and not url_secret:
        return problem(503, "Inbound email not configured", "Set INBOUND_EMAIL_BASIC_AUTH or "
                       "INBOUND_EMAIL_URL_SECRET on this service.")
    if secret is not None:
        if url_secret and hmac.compare_digest(secret, str(url_secret)):
            return None
        return problem(404, "Not found")
    auth = request.authorization
    if basic and auth is not None and auth.type == "basic":
        given = f"{auth.username}:{auth.password}"
        if hmac.compare_digest(given.encode(), str(basic).encode()):
            return None
    return problem(401, "Authentication required", "Send the configured basic auth.")


def _mailgun() -> InboundEmail:
    form = request.form
    if form.get("body-mime"):
        return parse_rfc822(form["body-mime"].encode(), [form.get("recipient", "")])
    return InboundEmail(
        recipients=[form.get("recipient", ""), form.get("To", "")],
        sender=parseaddr(form.get("sender") or form.get("from", ""))[1],
        text=form.get("body-plain") or html_to_text(form.get("body-html", "")),
        message_id=form.get("Message-Id") or None, subject=form.get("subject", ""),
        attachments=_files())


def _postmark() -> InboundEmail:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValueError("expected Postmark's JSON body")
    recipients = [str(data.get("OriginalRecipient") or ""), str(data.get("To") or ""),
                  str(data.get("Cc") or "")]
    attachments = [{"name": str(a.get("Name") or "attachment"),
                    "content_type": str(a.get("ContentType") or ""),
                    "size": int(a.get("ContentLength") or 0),
                    "data": _base64(a.get("Content"))}
                   for a in data.get("Attachments") or [] if isinstance(a, dict)]
    return InboundEmail(
        recipients=recipients, sender=parseaddr(str(data.get("From") or ""))[1],
        text=str(data.get("TextBody") or "") or html_to_text(str(data.get("HtmlBody") or "")),
        message_id=str(data.get("MessageID") or "") or None,
        subject=str(data.get("Subject") or ""), attachments=attachments)


def _base64(content: Any) -> bytes | None:
    """Postmark's base64 `Content` (None when missing or not base64: listed, not kept)."""
    if not isinstance(content, str):
        return None
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        return None


def _sendgrid() -> InboundEmail:
    form = request.form
    envelope: dict[str, Any] = {}
    try:
        envelope = json.loads(form.get("envelope") or "{}")
    except ValueError:
        envelope = {}
    envelope_to = [str(a) for a in envelope.get("to") or []] if isinstance(envelope, dict) \
        else []
    if form.get("email"):  # "POST the raw, full MIME message"
        return parse_rfc822(form["email"].encode(), envelope_to)
    headers = message_from_string(form.get("headers", ""), policy=default_policy)
    return InboundEmail(
        recipients=[*envelope_to, form.get("to", ""), form.get("cc", "")],
        sender=parseaddr(form.get("from", ""))[1],
        text=form.get("text") or html_to_text(form.get("html", "")),
        message_id=str(headers["Message-ID"] or "").strip() or None,
        subject=form.get("subject", ""), attachments=_files())


PARSERS = {"mailgun": _mailgun, "postmark": _postmark, "sendgrid": _sendgrid}


@bp.post("/webhooks/inbound-email/<provider>")
@bp.post("/webhooks/inbound-email/<provider>/<secret>")
def inbound_email(provider: str, secret: str | None = None) -> Any:
    """Receive one customer email from an inbound-email provider."""
    if provider not in PARSERS:
        return problem(404, "Not found", f"No inbound email provider {provider!r}.")
    refusal = _mailgun_verified() if provider == "mailgun" and secret is None \
        else _shared_secret_ok(secret)
    if refusal is not None:
        metrics.webhook_event(f"inbound_email.{provider}", "rejected")
        return refusal
    try:
        mail = PARSERS[provider]()
    except ValueError as exc:
        return problem(400, "Unreadable inbound email", str(exc))
    try:
        rma, message_id = receive_email(mail)
        db.session.commit()
    except (ForgedAddress, NotFound) as exc:
        db.session.rollback()
        metrics.webhook_event(f"inbound_email.{provider}", "refused")
        return {"received": False, "result": "refused", "detail": str(exc)}, \
            REFUSED_STATUS[provider]
    result = "duplicate" if message_id is None else "recorded"
    metrics.webhook_event(f"inbound_email.{provider}", result)
    return {"received": True, "result": result, "rma": rma}, 200
