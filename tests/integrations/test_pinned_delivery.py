"""A webhook attempt connects to the address its target check vetted. A name that resolves
to one address for the check and to another a moment later (DNS rebinding: public, then an
internal service) never gets the request to the second. Over TLS the name is still what the
receiver is asked for (SNI) and what its certificate must match.

The resolver is the test's: `socket.getaddrinfo` answers from a table (and counts what it
was asked), as a DNS server the attacker controls would."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme

from returns_service.integrations.ssrf import post_pinned
from tests.integrations.conftest import deliveries, register
from tests.support.loopback import LoopbackServer, read_body, send
from tests.support.receiver import Receiver
from tests.support.stripe import free_port

REAL_GETADDRINFO = socket.getaddrinfo


class Resolver:
    """Answers for made-up names, one answer per lookup (the last one again once the others
    are used); an answer is an address or a list of them."""

    def __init__(self) -> None:
        self.answers: dict[str, list[str | list[str]]] = {}
        self.asked: list[str] = []

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, bytes):
            host = host.decode()
        if host not in self.answers:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        self.asked.append(host)
        queue = self.answers[host]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "",
                 (address, int(port))) for address in ([answer] if isinstance(answer, str)
                                                       else answer)]


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    fake = Resolver()
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


class Listener:
    """Counts connections made to 127.0.0.2 on a port: where a rebound name would lead."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.2", port))
        self.sock.listen()
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


def test_a_name_rebound_after_the_check_still_reaches_only_the_vetted_address(
        app, api, make_return, resolver):
    with Receiver() as receiver:
        inner = Listener(receiver.port)  # "the internal service", same port, other address
        try:
            receiver.url = f"http://hooks.rebind.test:{receiver.port}/hooks"
            # Saving checks the name once; each attempt checks it again, then connects.
            resolver.answers["hooks.rebind.test"] = ["127.0.0.1", "127.0.0.1", "127.0.0.2"]
            register(api, receiver, ["return.requested"])
            make_return()

            assert [r.payload["type"] for r in receiver.accepted()] == ["return.requested"]
            assert inner.connections == 0
            assert resolver.asked == ["hooks.rebind.test", "hooks.rebind.test"]
            assert [d.status for d in deliveries(app)] == ["delivered"]
        finally:
            inner.close()


def test_an_address_that_refuses_is_passed_over_for_the_next_vetted_one(
        app, api, make_return, resolver):
    with Receiver() as receiver:
        receiver.url = f"http://hooks.two.test:{receiver.port}/hooks"
        # Nothing listens on 127.0.0.3: as a dead IPv6 route of a dual-stack host would.
        resolver.answers["hooks.two.test"] = [["127.0.0.3", "127.0.0.1"]]
        register(api, receiver, ["return.requested"])
        make_return()

        assert [r.payload["type"] for r in receiver.accepted()] == ["return.requested"]
        assert [d.status for d in deliveries(app)] == ["delivered"]


def test_a_proxy_in_the_environment_is_not_used_for_webhooks(
        app, api, make_return, monkeypatch):
    """A proxy would look the name up itself, and reach what the check refused."""
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{free_port()}")  # nothing listens
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with Receiver() as receiver:
        register(api, receiver, ["return.requested"])
        make_return()

        assert [r.payload["type"] for r in receiver.accepted()] == ["return.requested"]


class TlsReceiver(LoopbackServer):
    """A receiver on 127.0.0.1 over HTTPS, with a certificate for hooks.tls.test from a test
    CA; it notes the name each client asked for (SNI) and each request's Host header."""

    methods = ("POST",)

    def __init__(self, ca: trustme.CA) -> None:
        super().__init__()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("hooks.tls.test").configure_cert(context)
        self.sni: list[str | None] = []
        self.hosts: list[str] = []
        context.sni_callback = lambda sock, name, ctx: self.sni.append(name)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        read_body(request)
        self.hosts.append(request.headers["Host"])
        send(request, 204, b"")


@pytest.fixture
def tls_receiver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TlsReceiver]:
    """The client trusts the test CA through REQUESTS_CA_BUNDLE, as an operator would."""
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    with TlsReceiver(ca) as receiver:
        yield receiver


def test_over_tls_the_pinned_connection_asks_for_and_checks_the_name(tls_receiver):
    port = tls_receiver.port
    response = post_pinned(f"https://hooks.tls.test:{port}/hooks", ["127.0.0.1"],
                           data=b"{}", headers={"Content-Type": "application/json"},
                           timeout=5)

    assert response.status_code == 204
    assert tls_receiver.sni == ["hooks.tls.test"]
    assert tls_receiver.hosts == [f"hooks.tls.test:{port}"]


def test_over_tls_a_certificate_for_another_name_is_refused(tls_receiver):
    port = tls_receiver.port
    with pytest.raises(requests.exceptions.SSLError, match=r"hooks\.other\.test"):
        post_pinned(f"https://hooks.other.test:{port}/hooks", ["127.0.0.1"], data=b"{}",
                    headers={}, timeout=5)
    assert tls_receiver.hosts == []
