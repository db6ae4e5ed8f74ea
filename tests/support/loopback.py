"""The ground every loopback fake of an outside service stands on (Stripe Checkout, EasyPost,
Twilio, a webhook receiver, Sentry): an HTTP/1.1 server on 127.0.0.1 at a free port, answering
from threads of its own, with JSON answers.

A fake subclasses `LoopbackServer` and implements `handle(request, method)`. Its port is
taken when it is built and it listens from `start()` (or entering `with`), so a test can hand
out the URL of a service that is still down.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class LoopbackServer:
    methods: tuple[str, ...] = ("GET", "POST")

    def __init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

        for method in self.methods:
            setattr(Handler, f"do_{method}",
                    lambda request, method=method: owner.handle(request, method))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
        self.server.daemon_threads = True
        self.server.server_bind()
        self.port: int = self.server.server_address[1]
        self.root = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        raise NotImplementedError

    def start(self) -> Self:
        self.server.server_activate()
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(5)
            self._thread = None
        self.server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def send(request: BaseHTTPRequestHandler, status: int, data: bytes,
         content_type: str = "application/json", headers: dict[str, str] | None = None) -> None:
    """Answer `request`; a client that gave up waiting (its timeout, a killed worker) is not
    an error here."""
    try:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)
    except OSError:
        pass


def send_json(request: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
    send(request, status, json.dumps(payload).encode())


def read_body(request: BaseHTTPRequestHandler) -> bytes:
    return request.rfile.read(int(request.headers.get("Content-Length") or 0))
