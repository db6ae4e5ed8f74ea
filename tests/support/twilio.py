"""A loopback fake of Twilio's Messages API, for the real `twilio` client to talk to
(TWILIO_API_BASE points the client's HTTP client at it): it checks the account's basic
auth, records each message and answers as Twilio does (201 and the message resource, or
Twilio's error body)."""

from __future__ import annotations

import base64
import re
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

import pytest

from tests.support.loopback import LoopbackServer, read_body, send_json

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "twilio-test-auth-token"
FROM_NUMBER = "+15005550006"
_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(AC\w+)/Messages\.json$")


class FakeTwilio(LoopbackServer):
    methods = ("POST",)

    def __init__(self) -> None:
        super().__init__()
        self.url = self.root
        self.messages: list[dict[str, str]] = []
        self.invalid_numbers: set[str] = set()
        self._lock = threading.Lock()

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        found = _MESSAGES.match(request.path)
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if found is None:
            return send_json(request, 404, {"code": 20404, "message": "Not found",
                                            "status": 404})
        if request.headers.get("Authorization") != expected:
            return send_json(request, 401, {"code": 20003, "message": "Authenticate",
                                            "status": 401})
        form = {k: v[-1] for k, v in parse_qs(read_body(request).decode()).items()}
        if form.get("To") in self.invalid_numbers:
            return send_json(request, 400, {
                "code": 21211, "status": 400,
                "message": f"The 'To' number {form['To']} is not a valid phone number."})
        message = {"sid": "SM" + uuid.uuid4().hex, "account_sid": found[1],
                   "to": form.get("To", ""), "from": form.get("From", ""),
                   "body": form.get("Body", ""), "status": "queued",
                   "status_callback": form.get("StatusCallback", ""),
                   "num_segments": "1", "direction": "outbound-api",
                   "uri": f"/2010-04-01/Accounts/{found[1]}/Messages/x.json"}
        with self._lock:
            self.messages.append(message)
        send_json(request, 201, message)

    def to(self, phone: str) -> list[dict[str, str]]:
        return [m for m in self.messages if m["to"] == phone]


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake
