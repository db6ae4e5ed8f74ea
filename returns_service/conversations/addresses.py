"""Per-return reply addresses: `returns+R-ABC123.<signature>@<REPLY_DOMAIN>`.

The signature is an HMAC of the RMA under the app's secret, so a customer's reply finds its
return and nobody can write into another return's conversation by guessing an address. The
check ignores case (some mail servers lower-case the local part).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from email.utils import getaddresses

from flask import current_app

from returns_service.returns.rma import normalise_rma

PREFIX = "returns"
_SIGNATURE_CHARS = 16  # 64 bits of HMAC-SHA256, hex: beyond guessing at any mail rate
_LOCAL = re.compile(r"^returns\+(?P<rma>r-[0-9a-z]+)\.(?P<sig>[0-9a-f]+)$", re.IGNORECASE)


class ForgedAddress(Exception):
    """The address is not a reply address this service signed."""


def reply_domain() -> str | None:
    return current_app.config.get("REPLY_DOMAIN") or None


def _signature(rma: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, b"reply-address:" + rma.upper().encode(), hashlib.sha256)
    return digest.hexdigest()[:_SIGNATURE_CHARS]


def reply_address(rma: str) -> str | None:
    """The signed reply address of a return, or None when REPLY_DOMAIN is not set."""
    domain = reply_domain()
    if not domain:
        return None
    return f"{PREFIX}+{rma}.{_signature(rma)}@{domain}"


def rma_of_address(address: str) -> str:
    """The RMA a signed reply address names; ForgedAddress for any other address (a wrong
    domain, no signature, a signature that does not match)."""
    domain = reply_domain()
    local, _, host = address.strip().strip("<>").rpartition("@")
    if not domain or host.lower() != domain.lower():
        raise ForgedAddress(f"{address!r} is not at the reply domain")
    found = _LOCAL.match(local)
    if found is None:
        raise ForgedAddress(f"{address!r} is not a reply address")
    rma = normalise_rma(found["rma"])
    if not hmac.compare_digest(found["sig"].lower(), _signature(rma)):
        raise ForgedAddress(f"{address!r} has a wrong signature")
    return rma


def rma_of_recipients(*headers: str | None) -> str:
    """The RMA of the first signed reply address among recipient headers or lists
    (`To`, `Cc`, an envelope's RCPT TO); ForgedAddress when there is none."""
    for _name, address in getaddresses([h for h in headers if h]):
        try:
            return rma_of_address(address)
        except ForgedAddress:
            continue
    raise ForgedAddress("no signed reply address among the recipients")
