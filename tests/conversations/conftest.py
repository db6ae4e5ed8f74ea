"""Fixtures of the workspace tests: a reply domain, a real SMTP server for what is sent, the
built-in SMTP receiver on its own port, and helpers to read pages and addresses."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask

from returns_service.conversations import smtp_receiver
from returns_service.conversations.addresses import reply_address
from returns_service.returns.links import status_token
from tests.support.smtp import free_port

REPLY_DOMAIN = "replies.shop.test"


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: Any, tmp_path: Any) -> dict[str, Any]:
    app_config.update(SMTP_URL=smtp_server.url, REPLY_DOMAIN=REPLY_DOMAIN,
                      STORAGE_LOCAL_DIR=str(tmp_path / "files"),
                      MAIL_FROM="Acme Returns <returns@shop.test>")
    return app_config


def address_of(app: Flask, rma: str) -> str:
    with app.app_context():
        address = reply_address(rma)
    assert address is not None
    return address


def status_path(app: Flask, rma: str) -> str:
    with app.test_request_context():
        return f"/returns/status/{status_token(rma)}"


@pytest.fixture
def receiver(app: Flask) -> Iterator[tuple[str, int]]:
    """The built-in SMTP receiver, listening on a free loopback port."""
    port = free_port()
    controller = smtp_receiver.start(app, "127.0.0.1", port)
    try:
        yield "127.0.0.1", port
    finally:
        controller.stop()


def customer_reply(to: str, body: str, *, message_id: str = "<reply-1@mail.example>",
                   attachment: bytes | None = None) -> EmailMessage:
    """A customer's answer as a mail program writes it: new text, signature, quote."""
    message = EmailMessage()
    message["From"] = "Jane Doe <jane@example.com>"
    message["To"] = to
    message["Subject"] = "Re: Your return"
    message["Message-ID"] = message_id
    message.set_content(f"{body}\n\n-- \nJane Doe\nSent from my phone\n\n"
                        "On Mon, 2 Mar 2026 at 12:00, Acme Returns <returns@shop.test> wrote:\n"
                        "> Your return is approved: how to send it back\n> Thank you\n")
    if attachment is not None:
        message.add_attachment(attachment, maintype="image", subtype="jpeg",
                               filename="box.jpg")
    return message


def send_smtp(host_port: tuple[str, int], message: EmailMessage,
              to: list[str] | None = None) -> None:
    with smtplib.SMTP(*host_port, timeout=10) as client:
        client.send_message(message, from_addr="jane@example.com",
                            to_addrs=to or [str(message["To"])])
