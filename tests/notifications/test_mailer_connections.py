"""A worker keeps its SMTP connection between emails, and never loses one when it drops.

Kept connections are for `flask worker` (keep_connections_open); elsewhere each email
opens and closes its own. A kept connection is used without a check first: an email that
finds it closed at MAIL FROM is sent on a new one, and an email the server refused is
never sent twice."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from returns_service.notifications import mailer
from tests.support.smtp import CollectingHandler, SmtpServer, free_port


@pytest.fixture(autouse=True)
def like_a_worker() -> Iterator[None]:
    mailer.keep_connections_open()
    yield
    mailer.keep_connections_open(False)


def email_to(address: str, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "shop@example.com", address, subject
    message.set_content("Your return is on its way.")
    return message


def test_emails_in_a_row_share_one_connection(smtp_server: SmtpServer) -> None:
    for n in range(3):
        mailer.send_message(smtp_server.url, email_to(f"c{n}@example.com", f"Return {n}"))
    assert [str(m["Subject"]) for m in smtp_server.messages] == ["Return 0", "Return 1",
                                                                 "Return 2"]
    assert len(set(smtp_server.handler.peers)) == 1


def test_a_dropped_connection_is_replaced_and_the_email_still_goes() -> None:
    handler, port = CollectingHandler(), free_port()
    url = f"smtp://127.0.0.1:{port}"
    first = Controller(handler, hostname="127.0.0.1", port=port)
    first.start()
    mailer.send_message(url, email_to("a@example.com", "Before the restart"))
    first.stop()  # the mail server restarts: the kept connection is dead
    second = Controller(handler, hostname="127.0.0.1", port=port)
    second.start()
    try:
        mailer.send_message(url, email_to("b@example.com", "After the restart"))
    finally:
        second.stop()
    assert [str(m["Subject"]) for m in handler.messages] == ["Before the restart",
                                                            "After the restart"]
    assert len(set(handler.peers)) == 2


def test_a_refused_email_does_not_poison_the_next(smtp_server: SmtpServer) -> None:
    smtp_server.handler.fail_next = 1
    with pytest.raises(mailer.TransientMailError):
        mailer.send_message(smtp_server.url, email_to("a@example.com", "Refused once"))
    mailer.send_message(smtp_server.url, email_to("a@example.com", "Accepted"))
    assert [str(m["Subject"]) for m in smtp_server.messages] == ["Accepted"]


def test_idle_connection_is_not_reused(smtp_server: SmtpServer, monkeypatch) -> None:
    mailer.send_message(smtp_server.url, email_to("a@example.com", "First"))
    monkeypatch.setattr(mailer, "REUSE_IDLE_SECONDS", 0.0)
    mailer.send_message(smtp_server.url, email_to("a@example.com", "Second"))
    assert len(set(smtp_server.handler.peers)) == 2


def test_outside_a_worker_each_email_has_its_own_connection(smtp_server: SmtpServer) -> None:
    mailer.keep_connections_open(False)
    for n in range(2):
        mailer.send_message(smtp_server.url, email_to("a@example.com", f"Return {n}"))
    assert len(set(smtp_server.handler.peers)) == 2


class TimesOutIdleConnections(CollectingHandler):
    """A server that closed each connection after its first message (an idle timeout):
    the next command on it gets "421 closing" (as Postfix answers), counted."""

    def __init__(self) -> None:
        super().__init__()
        self.mail_commands = 0
        self.time_out = True
        self.timed_out = 0
        self._served: set[Any] = set()

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        self.mail_commands += 1
        if self.time_out and session.peer in self._served:
            self.timed_out += 1
            return "421 4.4.2 Idle timeout, closing connection"
        self._served.add(session.peer)
        return await super().handle_MAIL(server, session, envelope, address, mail_options)


@pytest.fixture
def timing_out_server() -> Iterator[tuple[TimesOutIdleConnections, str]]:
    handler, port = TimesOutIdleConnections(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


def test_a_kept_connection_the_server_timed_out_is_replaced_and_the_email_goes_once(
        timing_out_server: tuple[TimesOutIdleConnections, str]) -> None:
    handler, url = timing_out_server
    for n in range(3):
        mailer.send_message(url, email_to(f"c{n}@example.com", f"Return {n}"))
    assert [str(m["Subject"]) for m in handler.messages] == ["Return 0", "Return 1",
                                                            "Return 2"]
    assert handler.timed_out == 2  # the 2nd and 3rd emails each met a timed-out connection
    assert len(set(handler.peers)) == 3


def test_an_email_refused_at_data_on_a_kept_connection_is_not_sent_again(
        smtp_server: SmtpServer) -> None:
    mailer.send_message(smtp_server.url, email_to("a@example.com", "First"))
    smtp_server.handler.fail_next = 1  # 451 after the whole message was transmitted
    with pytest.raises(mailer.TransientMailError):
        mailer.send_message(smtp_server.url, email_to("b@example.com", "Refused"))
    assert smtp_server.handler.refused == 1
    assert [str(m["Subject"]) for m in smtp_server.messages] == ["First"]


def test_a_sender_refused_on_a_kept_connection_is_not_tried_again(
        timing_out_server: tuple[TimesOutIdleConnections, str]) -> None:
    handler, url = timing_out_server
    handler.time_out = False
    mailer.send_message(url, email_to("a@example.com", "First"))
    handler.mail_from_reply = "553 5.7.1 Sender address rejected"
    with pytest.raises(mailer.TransientMailError, match="553"):
        mailer.send_message(url, email_to("b@example.com", "Refused sender"))
    assert handler.mail_commands == 2  # one MAIL FROM for the refused email, not two
