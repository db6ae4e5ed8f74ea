"""The email policy's short-header shortcut writes exactly what the standard compat32
folding writes: long headers still folded, non-ASCII ones still encoded."""

from __future__ import annotations

import io
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32

import pytest

from returns_service.notifications.render import _UTF8_QP, EMAIL_POLICY, _address

HEADERS = [
    ("Subject", Header("Ihre Rücksendung R-7Q2 ist angekommen", "utf-8")),
    ("Subject", "Your return R-7Q2: we received your parcel"),
    ("From", _address("Größe & Söhne <shop@example.com>")),
    ("From", _address("Acme Outdoor <shop@example.com>")),
    ("To", "customer@example.com"),
    ("Reply-To", "r+" + "x" * 90 + "@reply.example.com"),  # longer than a line
    ("X-Words", "word " * 30),  # folds at spaces
    ("X-Tab", "a\tb"),
    ("X-Spaces", "two  spaces and a trailing one "),
    ("Date", "Sat, 05 Dec 2026 06:50:00 -0000"),
]


def _flattened(policy: object | None, name: str, value: object) -> bytes:
    options = {"policy": policy} if policy is not None else {}
    message: Message = MIMEMultipart("alternative", boundary="=_fixed", **options)
    message[name] = value
    message.attach(MIMEText("Hallo ö\n" * 40, "plain", _UTF8_QP, **options))
    message.attach(MIMEText("<p>Grüße</p>", "html", _UTF8_QP, **options))
    out = io.BytesIO()
    BytesGenerator(out, policy=message.policy).flatten(message, linesep="\r\n")
    return out.getvalue()


@pytest.mark.parametrize(("name", "value"), HEADERS, ids=[f"{n}-{i}" for i, (n, _) in
                                                          enumerate(HEADERS)])
def test_a_message_is_written_as_compat32_writes_it(name: str, value: object) -> None:
    assert _flattened(EMAIL_POLICY, name, value) == _flattened(compat32, name, value)


def test_a_long_header_is_still_folded() -> None:
    written = _flattened(EMAIL_POLICY, "X-Words", "word " * 30).decode()
    header = written.split("X-Words: ", 1)[1].split("\r\nContent-Type", 1)[0]
    assert "\r\n " in header and all(len(line) <= 78 for line in header.split("\r\n"))
