"""A loopback fake of Twilio's Messages API, for the real `twilio` client to talk to
(TWILIO_API_BASE points the client's HTTP client at it): it checks the account's basic
auth, records each message and answers as Twilio does (201 and the message resource, or
Twilio's error body)."""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "twilio-test-auth-token"
FROM_NUMBER = "+15005550006"
_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(AC\w+)/Messages\.json$")


class FakeTwilio:
    def __init__(self) -> None:
        self.messages: list[dict[str, str]] = []
        self.invalid_numbers: set[str] = set()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                found = _MESSAGES.match(self.path)
                expected = "Basic " + base64.b64encode(
                    f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
                if found is None:
                    return self._answer(404, {"code": 20404, "message": "Not found",
                                              "status": 404})
                if self.headers.get("Authorization") != expected:
                    return self._answer(401, {"code": 20003, "message": "Authenticate",
                                              "status": 401})
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[-1] for k, v in
                        parse_qs(self.rfile.read(length).decode()).items()}
                if form.get("To") in fake.invalid_numbers:
                    return self._answer(400, {
                        "code": 21211, "status": 400,
                        "message": f"The 'To' number {form['To']} is not a valid phone number."})
                message = {"sid": "SM" + uuid.uuid4().hex, "account_sid": found[1],
                           "to": form.get("To", ""), "from": form.get("From", ""),
                           "body": form.get("Body", ""), "status": "queued",
                           "status_callback": form.get("StatusCallback", ""),
                           "num_segments": "1", "direction": "outbound-api",
                           "uri": f"/2010-04-01/Accounts/{found[1]}/Messages/x.json"}
                with fake._lock:
                    fake.messages.append(message)
                self._answer(201, message)

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def to(self, phone: str) -> list[dict[str, str]]:
        return [m for m in self.messages if m["to"] == phone]


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    fake.thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()
