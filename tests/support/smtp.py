"""A real SMTP server (aiosmtpd) for tests: collects messages, can answer 451 on demand."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class CollectingHandler:
    """Keeps every accepted message; `fail_next` makes the next N deliveries answer 451."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.peers: list[Any] = []  # the client address of each accepted message's connection
        self.fail_next = 0
        self.unknown_users: set[str] = set()  # RCPT TO answers 550 for these
        self.mail_from_reply: str | None = None  # e.g. "530 …": MAIL FROM refused for all
        self.refused = 0
        self._lock = threading.Lock()

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        if self.mail_from_reply:
            return self.mail_from_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.unknown_users:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                self.refused += 1
                return "451 4.3.0 Try again later"
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.peers.append(session.peer)
        return "250 OK"


class SmtpServer:
    def __init__(self, handler: CollectingHandler, port: int):
        self.handler, self.port = handler, port
        self.url = f"smtp://127.0.0.1:{port}"

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    def with_subject(self, text: str) -> list[EmailMessage]:
        return [m for m in self.messages if text in str(m["Subject"])]


def parts(message: EmailMessage) -> tuple[str, str]:
    """(plain text, html) bodies of a multipart/alternative message."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None, "expected both a text and an HTML part"
    return text.get_content(), html.get_content()


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1/localhost made with the openssl command-line tool."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


class Authenticator:
    """Accepts one user/password; remembers who logged in."""

    def __init__(self, user: str, password: str):
        self.user, self.password = user, password
        self.logins: list[str] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str,
                 auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.user
              and auth_data.password.decode() == self.password)
        if ok:
            self.logins.append(self.user)
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_tls_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """SMTP with STARTTLS required and AUTH (user `mailer`, password `s3cr3t/pw`)."""
    cert, key = self_signed_cert(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    handler = CollectingHandler()
    authenticator = Authenticator("mailer", "s3cr3t/pw")
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=True, authenticator=authenticator,
                            auth_required=True)
    controller.start()
    server = SmtpServer(handler, port)
    server.url = (f"smtp+starttls://mailer:s3cr3t%2Fpw@127.0.0.1:{port}"
                  f"?cafile={quote(str(cert))}")
    server.authenticator = authenticator  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A live SMTP server on a free local port; its `url` goes into SMTP_URL."""
    handler = CollectingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(handler, port)
    finally:
        controller.stop()
