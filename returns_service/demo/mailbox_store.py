"""The demo's mailbox on disk: one `.eml` file per message received by the SMTP sink
(`returns_service.demo.mailbox`), read by the console's Demo mailbox page.

A folder rather than a table: the sink is its own process and needs no database, and
anyone can open the files with a mail client. Standard library only: the web app reads the
folder without the sink's dependencies installed.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

FOLDER_NAME = "demo-mailbox"
# <nanoseconds since the epoch>-<random hex>.eml: names sort by arrival, and a name taken
# from a URL can be checked against this before any file is opened.
_NAME = re.compile(r"^[0-9]{19}-[0-9a-f]{32}$")


@dataclass(frozen=True)
class StoredMail:
    """One received message as the mailbox page shows it."""

    key: str
    to: str
    sender: str
    subject: str
    received_at: datetime
    text: str | None
    html: str | None


def mailbox_dir(instance_path: str | os.PathLike[str], configured: str | None = None) -> Path:
    """Where the sink writes and the console reads: DEMO_MAILBOX_DIR, else a folder in the
    instance folder."""
    return Path(configured) if configured else Path(instance_path) / FOLDER_NAME


def store(folder: Path, raw: bytes) -> Path:
    """Write one message; a temporary name first, so a reader never sees half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    key = f"{time.time_ns():019d}-{uuid.uuid4().hex}"
    partial = folder / f".{key}.part"
    partial.write_bytes(raw)
    final = folder / f"{key}.eml"
    partial.replace(final)
    return final


def _parse(path: Path) -> StoredMail:
    message: EmailMessage = email.message_from_bytes(  # type: ignore[assignment]
        path.read_bytes(), policy=email.policy.default)
    key = path.stem
    # When the sink took it (its name says), not the Date the sender wrote.
    received = datetime.fromtimestamp(int(key.split("-", 1)[0]) / 1e9, UTC)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return StoredMail(key=key, to=str(message["To"] or ""), sender=str(message["From"] or ""),
                      subject=str(message["Subject"] or "(no subject)"), received_at=received,
                      text=text.get_content() if text is not None else None,
                      html=html.get_content() if html is not None else None)


def list_mail(folder: Path, limit: int = 200) -> list[StoredMail]:
    """The newest `limit` messages, newest first."""
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("*.eml"), reverse=True)[:limit]
    return [_parse(path) for path in paths if _NAME.match(path.stem)]


def read_mail(folder: Path, key: str) -> StoredMail | None:
    """One message by its key, or None (an unknown or malformed key opens no file)."""
    if not _NAME.match(key):
        return None
    path = folder / f"{key}.eml"
    return _parse(path) if path.is_file() else None


def count_mail(folder: Path) -> int:
    return len(list(folder.glob("*.eml"))) if folder.is_dir() else 0
