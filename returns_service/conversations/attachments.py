"""Attachments of customers' emails, kept through the storage under random keys and listed
on their message (name, type, size, key). What is kept: images (cleaned like photos: type
read from the content, EXIF stripped, re-encoded) and PDFs (checked by their signature), up
to ATTACHMENT_MAX_BYTES each and MAX_PER_MESSAGE per email. Anything else is listed with
why it was not kept, so the agent knows to ask for it another way."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app
from sqlalchemy import select

from returns_service.conversations.models import ConversationMessage
from returns_service.db import db
from returns_service.photos.images import ImageRefused, clean_image
from returns_service.photos.services import new_key
from returns_service.storage import FileNotStored, StoredFile, storage

__all__ = ["attachment_file", "delete_attachments_for_return", "discard", "keep_attachments"]

MAX_PER_MESSAGE = 10
IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF", b"GIF8")


def _is_image(data: bytes) -> bool:
    return data.startswith(IMAGE_SIGNATURES) or data[4:12] in (b"ftypheic", b"ftypheix",
                                                                 b"ftypmif1", b"ftyphevc")


def _keep_one(data: bytes, max_bytes: int) -> tuple[bytes, str, str] | str:
    """(content, type, extension) to store, or why not ("size", "type")."""
    if len(data) > max_bytes:
        return "size"
    if data.startswith(b"%PDF-"):
        return data, "application/pdf", "pdf"
    if _is_image(data):
        try:
            image = clean_image(data, max_bytes)
        except ImageRefused as exc:
            return exc.code
        return image.data, image.content_type, image.extension
    return "type"


def keep_attachments(files: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Store what may be kept of an email's attachments (each a dict with `name`,
    `content_type`, `size` and `data`); their descriptions for the message: `key` when
    stored, else `refused` ("size", "type" or "count")."""
    max_bytes = int(current_app.config["ATTACHMENT_MAX_BYTES"])
    listed = []
    for n, file in enumerate(files):
        data = file.get("data")
        entry = {"name": str(file.get("name") or "attachment")[:200],
                 "content_type": str(file.get("content_type") or "")[:100],
                 "size": len(data) if isinstance(data, bytes) else int(file.get("size") or 0)}
        if not isinstance(data, bytes):
            entry["refused"] = "type"
        elif n >= MAX_PER_MESSAGE:
            entry["refused"] = "count"
        else:
            kept = _keep_one(data, max_bytes)
            if isinstance(kept, str):
                entry["refused"] = kept
            else:
                content, content_type, extension = kept
                key = new_key("attachments", extension)
                storage().put(key, content, content_type)
                entry.update(key=key, content_type=content_type, size=len(content))
        listed.append(entry)
    return listed


def discard(listed: Iterable[dict[str, Any]]) -> None:
    """Delete the stored files of attachments whose message was not recorded (a redelivery
    of a message recorded already, or a failure)."""
    for entry in listed:
        if entry.get("key"):
            storage().delete(entry["key"])


def attachment_file(return_id: int, message_id: int, index: int) -> tuple[str, StoredFile]:
    """(name, file) of a message's stored attachment, only when the message belongs to this
    return; FileNotStored otherwise."""
    message = db.session.get(ConversationMessage, message_id)
    if message is None or message.return_id != return_id:
        raise FileNotStored(f"message {message_id}")
    listed = message.attachments or []
    if not 0 <= index < len(listed) or not listed[index].get("key"):
        raise FileNotStored(f"attachment {index}")
    return listed[index]["name"], storage().get(listed[index]["key"])


def delete_attachments_for_return(return_id: int) -> int:
    """Erase the stored attachments of a return's messages (personal data erasure), keeping
    only that there was one; how many files. Safe to run again. The caller commits."""
    count = 0
    for message in db.session.scalars(select(ConversationMessage).where(
            ConversationMessage.return_id == return_id,
            ConversationMessage.attachments.is_not(None))):
        if not message.attachments:
            continue
        erased = []
        for entry in message.attachments or []:
            if entry.get("key"):
                storage().delete(entry["key"])
                count += 1
            erased.append({"name": "(erased)", "content_type": "", "size": 0,
                           "refused": "erased"})
        message.attachments = erased
    db.session.flush()
    return count
