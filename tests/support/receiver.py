"""A webhook receiver on loopback, as an integrator would write one: it verifies every request
with the official `standardwebhooks` library (signature and timestamp) before accepting it.

`Receiver(secrets)` answers 200 by default; `script` holds what the next requests get
(`Answer(status, delay)`), one each. Its port is taken when it is built and it listens from
`start()`, so a test can register the URL while the receiver is down and start it later.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.support.loopback import LoopbackServer, read_body, send


@dataclass
class Answer:
    status: int = 200
    delay: float = 0.0  # seconds before answering (a slow receiver)
    body: str = "ok"


@dataclass
class Received:
    webhook_id: str
    timestamp: str
    signatures: list[str]
    payload: dict[str, Any]
    verified_by: list[int]  # indexes of the secrets that verified it
    answered: int


class Receiver(LoopbackServer):
    methods = ("POST",)

    def __init__(self, secrets: list[str] | None = None):
        super().__init__()
        self.secrets = list(secrets or [])
        self.script: list[Answer] = []
        self.received: list[Received] = []
        self.rejected: list[str] = []  # why requests failed verification
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests it was answering at the same time
        self.url = f"{self.root}/hooks"

    def handle(self, req: BaseHTTPRequestHandler, method: str) -> None:
        body = read_body(req)
        headers = {k: v for k, v in req.headers.items()}
        verified = []
        for index, secret in enumerate(self.secrets):
            try:
                Webhook(secret).verify(body, headers)
                verified.append(index)
            except WebhookVerificationError as exc:
                self.rejected.append(str(exc))
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            answer = self.script.pop(0) if self.script else Answer()
            status = answer.status if verified else 400
            self.received.append(Received(  # on arrival, whether or not the sender waits
                headers.get("webhook-id", ""), headers.get("webhook-timestamp", ""),
                (headers.get("webhook-signature") or "").split(" "), json.loads(body),
                verified, status))
        if answer.delay:
            time.sleep(answer.delay)
        with self._lock:
            self.in_flight -= 1
        send(req, status, answer.body.encode(), "text/plain")

    def accepted(self) -> list[Received]:
        """What it accepted (verified and answered 2xx), in arrival order."""
        return [r for r in self.received if r.verified_by and 200 <= r.answered < 300]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as started:
        yield started
