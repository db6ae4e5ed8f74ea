"""Customer replies by email: whatever door a message came in by (the built-in SMTP
receiver, a provider's inbound webhook), it becomes one `InboundEmail`, its quoted text and
signature are trimmed (mail-parser-reply) and it joins the conversation of the return its
signed reply address names.

Attachments: images and PDFs are kept through the storage and listed on the message
(conversations.attachments); others are listed with why they were not kept.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from mailparser_reply import EmailReplyParser

from returns_service.conversations.addresses import ForgedAddress, rma_of_recipients
from returns_service.conversations.attachments import discard, keep_attachments
from returns_service.conversations.services import post_customer_message
from returns_service.returns.services import get_return

__all__ = ["ForgedAddress", "InboundEmail", "parse_rfc822", "receive_email", "trim_reply"]
_LANGUAGES = ["en", "de", "fr", "es", "it", "nl"]
_TAGS = re.compile(r"<[^>]+>")
# The standard signature delimiter ("-- " alone on a line, RFC 3676), which the parser
# leaves in when it found no quote after it; and the phone apps' own line.
_SIGNATURE = re.compile(r"(?m)^(?:-- ?|Sent from my [^\n]*)$")


@dataclass
class InboundEmail:
    """One received email, as every door hands it over."""

    recipients: list[str]  # envelope recipients or To/Cc: where it was delivered
    sender: str
    text: str  # the plain-text body, quote and all
    message_id: str | None = None
    subject: str = ""
    # name, content_type, size and data (the bytes) of each attached file
    attachments: list[dict[str, Any]] = field(default_factory=list)


def trim_reply(text: str) -> str:
    """The customer's new text: quoted history ("On … wrote:", "> …") and the signature
    cut off."""
    text = (text or "").replace("\r\n", "\n")
    try:
        reply = EmailReplyParser(languages=_LANGUAGES).parse_reply(text=text)
    except Exception:  # a parser bug must not lose the message: keep it whole
        reply = text
    reply = _SIGNATURE.split(reply or "", maxsplit=1)[0]
    return reply.strip() or text.strip()


def html_to_text(markup: str) -> str:
    """A crude text version of an HTML-only email (tags dropped, entities decoded)."""
    markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", markup)
    markup = re.sub(r"(?is)<(style|script|head)[^>]*>.*?</\1>", "", markup)
    return html.unescape(_TAGS.sub("", markup))


def parse_rfc822(raw: bytes, envelope_recipients: list[str] | None = None) -> InboundEmail:
    """An RFC 822 message (SMTP DATA, a provider's raw MIME) as an InboundEmail."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    recipients = list(envelope_recipients or [])
    for header in ("To", "Cc", "Delivered-To", "X-Original-To"):
        recipients.extend(str(v) for v in message.get_all(header, []))
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        text = body.get_content()
        if body.get_content_type() == "text/html":
            text = html_to_text(text)
    attachments = []
    for part in message.iter_attachments():
        data = part.get_payload(decode=True) or b""
        attachments.append({"name": part.get_filename() or "attachment",
                            "content_type": part.get_content_type(), "size": len(data),
                            "data": data})
    return InboundEmail(recipients=recipients, sender=parseaddr(str(message["From"] or ""))[1],
                        text=text, message_id=str(message["Message-ID"] or "").strip() or None,
                        subject=str(message["Subject"] or ""), attachments=attachments)


def receive_email(mail: InboundEmail) -> tuple[str, int | None]:
    """Record the email in its return's conversation: (rma, message id), the id None for a
    redelivery. ForgedAddress when no recipient is a signed reply address; NotFound when
    the return is gone. The caller commits."""
    rma = rma_of_recipients(*mail.recipients)
    ret = get_return(rma)  # NotFound: a return deleted since (the caller answers for it)
    files = keep_attachments(mail.attachments)
    try:
        message_id = post_customer_message(
            ret, trim_reply(mail.text), channel="email", attachments=files,
            external_id=f"email:{mail.message_id}" if mail.message_id else None)
    except BaseException:
        discard(files)
        raise
    if message_id is None:  # recorded already: its own copies are the ones listed
        discard(files)
    return ret.rma, message_id
