"""Where outbound webhooks may go: http(s) URLs whose host resolves to public addresses only,
unless WEBHOOK_ALLOW_PRIVATE_TARGETS allows private, loopback and link-local ones. Checked
when an endpoint is saved and again before every attempt (a name may resolve elsewhere
later)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class TargetRefused(ValueError):
    """The URL may not be used as a webhook target; the message says why."""


def check_target(url: str, *, allow_private: bool) -> None:
    """Raise TargetRefused unless `url` is an http(s) URL whose host resolves only to
    addresses a webhook may reach."""
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
