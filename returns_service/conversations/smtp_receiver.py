"""The built-in SMTP receiver for self-hosters (`flask conversations smtp`): point the reply
domain's MX at it and customers' replies join their return's conversation.

Recipients are checked at RCPT TO: only signed reply addresses are accepted (550 for any
other), so the receiver is no open relay and a forged address never gets to send its
content. Each message is recorded in its own transaction before the 250; a database
failure answers 451, and the sending server tries again later.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask

from returns_service.common.errors import NotFound
from returns_service.conversations.addresses import ForgedAddress, rma_of_address
from returns_service.conversations.inbound import parse_rfc822, receive_email
from returns_service.db import db

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


class ReplyHandler:
    """aiosmtpd handler: signed recipients only; each message stored before it is accepted."""

    def __init__(self, app: Flask):
        self.app = app

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        with self.app.app_context():
            try:
                rma_of_address(address)
            except ForgedAddress:
                log.info("inbound mail to %s refused: not a signed reply address", address)
                return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.store, bytes(envelope.content),
                                          list(envelope.rcpt_tos))

    def store(self, raw: bytes, recipients: list[str]) -> str:
        """Record one message (blocking: run off the event loop); the SMTP answer."""
        with self.app.app_context():
            try:
                mail = parse_rfc822(raw, envelope_recipients=recipients)
                # Only the envelope counts here: RCPT TO was checked, the headers were not.
                mail.recipients = recipients
                rma, message_id = receive_email(mail)
                db.session.commit()
            except (ForgedAddress, NotFound) as exc:
                db.session.rollback()
                return f"550 5.1.1 {exc}"
            except Exception:
                db.session.rollback()
                log.exception("inbound mail could not be stored; the sender will retry")
                return "451 4.3.0 Try again later"
        log.info("inbound mail for %s recorded (%s)", rma,
                 "duplicate" if message_id is None else f"message {message_id}")
        return "250 OK: recorded"


def start(app: Flask, host: str, port: int) -> Controller:
    """Start the receiver in a background thread (stop it with `.stop()`)."""
    controller = Controller(ReplyHandler(app), hostname=host, port=port,
                            data_size_limit=MAX_MESSAGE_BYTES)
    controller.start()
    return controller
