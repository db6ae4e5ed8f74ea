"""Where outbound webhooks may go: http(s) URLs whose host resolves to public addresses only,
unless WEBHOOK_ALLOW_PRIVATE_TARGETS allows private, loopback and link-local ones. Checked
when an endpoint is saved and again before every attempt (a name may resolve elsewhere
later), and each attempt connects to the address that check vetted (`post_pinned`): a name
that resolves to a public address for the check and to an internal one a moment later (DNS
rebinding) never gets the request into the internal network."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError


class TargetRefused(ValueError):
    """The URL may not be used as a webhook target; the message says why."""


def check_target(url: str, *, allow_private: bool) -> list[str]:
    """Raise TargetRefused unless `url` is an http(s) URL whose host resolves only to
    addresses a webhook may reach; those addresses, in the resolver's order (an IPv6
    link-local one with its `%zone`, which connecting needs)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("Use an http:// or https:// URL with a host name.")
    if parts.username or parts.password:
        raise TargetRefused("Put no user name or password in the URL; verify the signature "
                            "instead.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("The port is not a number from 1 to 65535.") from None
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"The host {parts.hostname} cannot be resolved ({exc}).") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if getattr(address, "ipv4_mapped", None):
            address = address.ipv4_mapped  # type: ignore[union-attr]
        if address.is_global and not address.is_multicast:
            continue
        if allow_private and (address.is_private or address.is_loopback
                              or address.is_link_local):
            continue
        raise TargetRefused(
            f"The host {parts.hostname} resolves to {address}, a private, loopback, "
            "link-local or reserved address. Webhooks only go to public addresses unless "
            "WEBHOOK_ALLOW_PRIVATE_TARGETS is set.")
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _PinnedAdapter(HTTPAdapter):
    """requests' transport, connecting to one vetted address whatever the URL's name
    resolves to by then. Over TLS the name is still what the server is asked for (SNI) and
    what its certificate is checked against: requests' documented way to change how it
    picks a connection (`build_connection_pool_key_attributes`)."""

    def __init__(self, address: str) -> None:
        self._address = address
        super().__init__()

    def build_connection_pool_key_attributes(
            self, request: requests.PreparedRequest, verify: Any,
            cert: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert)
        name = host_params["host"]
        host_params["host"] = self._address
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = name
            pool_kwargs["assert_hostname"] = name
        return host_params, pool_kwargs


# No proxy from the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY): a proxy would look the
# name up itself, and could reach what the check refused. None here wins over the
# environment's value (requests drops the key); REQUESTS_CA_BUNDLE still applies.
_NO_PROXY = {"http": None, "https": None, "all": None}


def post_pinned(url: str, addresses: list[str], *, data: bytes, headers: dict[str, str],
                timeout: float) -> requests.Response:
    """POST to `url` over a connection to one of `addresses` (from `check_target`), each
    tried in turn until one connects, as a resolver's answers are; redirects not followed."""
    for position, address in enumerate(addresses):
        try:
            return _post_to(url, address, data=data, headers=headers, timeout=timeout)
        except requests.ConnectionError as exc:
            if position == len(addresses) - 1 or not _not_connected(exc):
                raise
    raise TargetRefused("The host has no address to connect to.")


def _post_to(url: str, address: str, *, data: bytes, headers: dict[str, str],
             timeout: float) -> requests.Response:
    with requests.Session() as session:
        adapter = _PinnedAdapter(address)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        prepared = session.prepare_request(requests.Request("POST", url, data=data,
                                                            headers=headers))
        # The name, as requests encoded it: the connection's own Host would be the address.
        prepared.headers["Host"] = urlsplit(prepared.url).netloc
        settings = session.merge_environment_settings(prepared.url, dict(_NO_PROXY), None,
                                                      None, None)
        return session.send(prepared, allow_redirects=False, timeout=timeout, **settings)


def _not_connected(exc: requests.ConnectionError) -> bool:
    """True when no connection was made (refused, unreachable, timed out connecting): the
    request was not sent, so the next address may be tried."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(reason, NewConnectionError)
