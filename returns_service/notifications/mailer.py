"""Sending one email over SMTP, configured by a single URL (SMTP_URL).

    smtp://host:25                      plain SMTP (a local relay)
    smtp://user:pass@host:587?starttls=1  or  smtp+starttls://user:pass@host:587
    smtps://user:pass@host:465          implicit TLS

User and password are URL-encoded. `cafile=/path.pem` in the query trusts a private CA.
Errors are sorted into transient (retry later) and permanent (a person has to look).

An RQ worker (`flask worker` calls keep_connections_open) keeps its connection between
emails, dropped after any error or REUSE_IDLE_SECONDS unused: a busy worker does not pay the
connect, greeting, TLS and login for every email. A kept connection is not checked before
use (a NOOP is a round trip per email): when the server has closed it, sending fails at
MAIL FROM, before anything of the message was accepted, and the email is sent once more on
a new connection. Elsewhere (jobs run in-process by the web app) each email has its own
connection.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
import time
from dataclasses import dataclass
from email.message import Message
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TRUE = {"1", "true", "yes", "on"}
REUSE_IDLE_SECONDS = 30.0
_open_connections = threading.local()
_keep_open = False


class MailNotConfigured(Exception):
    """SMTP_URL is not set: nothing can be sent."""


class TransientMailError(Exception):
    """The server or network failed for now (4xx, refused connection, timeout): retry."""


class PermanentMailError(Exception):
    """The server refused for good (5xx, e.g. unknown recipient): do not retry."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    ssl: bool
    starttls: bool
    username: str | None
    password: str | None
    cafile: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("smtp", "smtps", "smtp+starttls"):
            raise ValueError(f"SMTP_URL must start with smtp://, smtps:// or smtp+starttls://, "
                             f"not {scheme}://")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        use_ssl = scheme == "smtps"
        starttls = scheme == "smtp+starttls" or query.get("starttls", "").lower() in TRUE
        default_port = 465 if use_ssl else (587 if starttls else 25)
        return cls(host=parts.hostname or "localhost", port=parts.port or default_port,
                   ssl=use_ssl, starttls=starttls,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None,
                   cafile=query.get("cafile"))


def send_message(url: str | None, message: Message, *, timeout: float = 30,
                 envelope: tuple[str, list[str]] | None = None) -> None:
    """Deliver `message` through the SMTP server at `url`; raise a Mail error on failure.
    `envelope`: MAIL FROM and RCPT TO when the caller knows them (else read from the
    message's From, To and Cc)."""
    sender, recipients = envelope if envelope is not None else (None, None)
    if not url:
        raise MailNotConfigured("SMTP_URL is not set")
    settings = _settings(url)
    try:
        client, kept = _connection(settings, timeout)
        try:
            try:
                client.send_message(message, sender, recipients)
            except (smtplib.SMTPServerDisconnected, smtplib.SMTPSenderRefused):
                if not (kept and client.closed_before_mail_from()):
                    raise
                close_connection()  # the server had closed it while it was kept
                client, _ = _connection(settings, timeout)
                client.send_message(message, sender, recipients)
        except BaseException:
            close_connection()  # its state is unknown: the next email starts afresh
            raise
        if _keep_open:
            _open_connections.last_used = time.monotonic()
        else:
            close_connection()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if all(400 <= code < 500 for code in codes):
            raise TransientMailError(f"recipient deferred: {exc.recipients}") from exc
        raise PermanentMailError(f"recipient refused: {exc.recipients}") from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise TransientMailError(f"SMTP login failed ({exc.smtp_code}); check SMTP_URL") from exc
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        error = f"{exc.smtp_code} {text}"
        # Only a refusal of this message's content (at DATA) is final for this email. Any
        # other 5xx (530 authentication required, a refused sender at MAIL FROM, a greeting
        # refused) is the server's setup: every email would fail alike until it is fixed.
        if isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500:
            raise PermanentMailError(error) from exc
        raise TransientMailError(error) from exc
    except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timeout, TLS trouble
        raise TransientMailError(f"{type(exc).__name__}: {exc}") from exc


@lru_cache(maxsize=8)
def _settings(url: str) -> SmtpSettings:
    # Parsed once per URL: every email job of a worker sends through the same server.
    return SmtpSettings.from_url(url)


def keep_connections_open(enabled: bool = True) -> None:
    """Keep each thread's SMTP connection between emails (for long-running workers)."""
    global _keep_open
    _keep_open = enabled
    if not enabled:
        close_connection()


class _MailFromReply:
    """Mixin for smtplib's clients: remembers the server's reply to this message's MAIL
    FROM, the first command of a message, to tell a connection the server had already
    closed from a message it refused."""

    mail_from_code: int | None = None

    def mail(self, sender: str, options: Any = ()) -> tuple[int, bytes]:
        self.mail_from_code = None
        reply = super().mail(sender, options)  # type: ignore[misc]
        self.mail_from_code = reply[0]
        return reply  # type: ignore[no-any-return]

    def closed_before_mail_from(self) -> bool:
        """The last message failed before the server took its MAIL FROM: the connection
        was gone (no reply), or the server said it is closing it (421, e.g. its idle
        timeout). Nothing of that message was accepted."""
        return self.mail_from_code in (None, 421)


class _Client(_MailFromReply, smtplib.SMTP):
    """A plain (or STARTTLS) connection."""


class _TlsClient(_MailFromReply, smtplib.SMTP_SSL):
    """An implicit TLS connection (smtps://)."""


def _connection(settings: SmtpSettings, timeout: float) -> tuple[Any, bool]:
    """This thread's kept connection to `settings` if it was used recently (and whether it
    is that kept one), else a new one."""
    client = getattr(_open_connections, "client", None)
    if client is not None:
        fresh = time.monotonic() - _open_connections.last_used < REUSE_IDLE_SECONDS
        if _open_connections.settings == settings and fresh:
            return client, True
        close_connection()
    client = _connect(settings, timeout)
    _open_connections.client, _open_connections.settings = client, settings
    _open_connections.last_used = time.monotonic()
    return client, False


def _connect(settings: SmtpSettings, timeout: float) -> smtplib.SMTP:
    # Only TLS needs a context: building one loads every CA certificate of the system,
    # which costs a plain connection to a local relay more than a hundred emails' work.
    context = (ssl.create_default_context(cafile=settings.cafile)
               if settings.ssl or settings.starttls else None)
    if settings.ssl:
        client: smtplib.SMTP = _TlsClient(settings.host, settings.port, timeout=timeout,
                                          context=context)
    else:
        client = _Client(settings.host, settings.port, timeout=timeout)
    try:
        if settings.starttls:
            client.starttls(context=context)
        if settings.username:
            client.login(settings.username, settings.password or "")
    except BaseException:
        client.close()
        raise
    return client


def close_connection() -> None:
    """Close this thread's kept SMTP connection, if any (QUIT when the server still listens)."""
    client = getattr(_open_connections, "client", None)
    _open_connections.client = None
    if client is None:
        return
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()
