"""What conversations keep of the customer (messages' bodies and attachments' names, the
phone number SMS go to, the texts sent, staff notes about them), its eraser and exporter.
Who wrote and when stay: the response-time figures are read from them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, null, select, update

from returns_service.conversations.attachments import delete_attachments_for_return
from returns_service.conversations.models import (
    ConversationMessage,
    InternalNote,
    SmsMessage,
    SmsPhone,
)
from returns_service.db import db
from returns_service.privacy import Scope

ERASED = ""  # an erased body: the columns are not nullable
CUSTOMER_LABEL = "Customer"


def erase_attachment_files(scope: Scope) -> int:
    """The files customers attached to their emails; runs before `erase_conversations`,
    which forgets where they were stored."""
    return sum(delete_attachments_for_return(return_id) for return_id in scope.return_ids)


def erase_conversations(scope: Scope) -> int:
    ids = scope.return_ids
    if not ids:
        return 0
    options = {"synchronize_session": False}
    changed = db.session.execute(update(ConversationMessage).where(
        ConversationMessage.return_id.in_(ids),
        (ConversationMessage.body != ERASED) | ConversationMessage.attachments.is_not(None)
        | ((ConversationMessage.author_type == "customer")
           & (ConversationMessage.author_label != CUSTOMER_LABEL)))
        .values(body=ERASED, attachments=null())
        .execution_options(**options)).rowcount
    db.session.execute(update(ConversationMessage).where(
        ConversationMessage.return_id.in_(ids), ConversationMessage.author_type == "customer")
        .values(author_label=CUSTOMER_LABEL).execution_options(**options))
    changed += db.session.execute(update(InternalNote).where(
        InternalNote.return_id.in_(ids), InternalNote.body != ERASED)
        .values(body=ERASED).execution_options(**options)).rowcount
    changed += db.session.execute(delete(SmsPhone).where(SmsPhone.return_id.in_(ids))
                                  .execution_options(**options)).rowcount
    changed += db.session.execute(update(SmsMessage).where(
        SmsMessage.return_id.in_(ids), (SmsMessage.body != ERASED) | (SmsMessage.to_phone != ""))
        .values(body=ERASED, to_phone="", error=None).execution_options(**options)).rowcount
    return changed


def export_conversations(scope: Scope) -> dict[str, Any]:
    """What the customer and the store wrote to each other (internal notes are staff-only
    and not part of it)."""
    ids = scope.return_ids
    messages = db.session.scalars(select(ConversationMessage).where(
        ConversationMessage.return_id.in_(ids)).order_by(ConversationMessage.id))
    phones = db.session.scalars(select(SmsPhone).where(SmsPhone.return_id.in_(ids)))
    texts = db.session.scalars(select(SmsMessage).where(SmsMessage.return_id.in_(ids))
                               .order_by(SmsMessage.id))
    return {
        "messages": [{"return_id": m.return_id, "channel": m.channel,
                      "direction": m.direction, "author": m.author_label, "body": m.body,
                      "attachments": m.attachments, "at": m.created_at.isoformat()}
                     for m in messages],
        "sms_phones": [{"return_id": p.return_id, "phone": p.phone,
                        "opted_out": p.stopped_at is not None} for p in phones],
        "sms": [{"return_id": t.return_id, "to": t.to_phone, "body": t.body,
                 "status": t.status, "at": t.created_at.isoformat()} for t in texts]}
