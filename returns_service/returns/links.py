"""Signed, expiring links that name a return (no guessable ids): the customer's status page,
and any other link (e.g. feedback) that signs an RMA under its own salt.

A token made under one salt never opens a link of another kind.
"""

from __future__ import annotations

import time
from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "return-status-link"


class LinkInvalid(Exception):
    def __init__(self, expired: bool):
        self.expired = expired
        super().__init__("expired" if expired else "invalid")


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def sign_rma(rma: str, *, salt: str) -> str:
    """A URL-safe token carrying `rma`, signed with the app's secret under `salt`."""
    return _signed(current_app.config["SECRET_KEY"], salt, rma, int(time.time()))


# An email or a page shows the same link several times: a token carries its second of
# issue, so within that second it is the same token, signed once.
@lru_cache(maxsize=256)
def _signed(secret: str, salt: str, rma: str, _second: int) -> str:
    return URLSafeTimedSerializer(secret, salt=salt).dumps({"rma": rma})


def rma_from_signed(token: str, *, salt: str, max_age_days: int) -> str:
    """The RMA a token was made for; raise LinkInvalid when forged, of another kind or old."""
    try:
        data = _serializer(salt).loads(token, max_age=max_age_days * 86400)
    except SignatureExpired as exc:
        raise LinkInvalid(expired=True) from exc
    except BadSignature as exc:
        raise LinkInvalid(expired=False) from exc
    return str(data["rma"])


def status_token(rma: str) -> str:
    return sign_rma(rma, salt=SALT)


def public_url(path: str) -> str:
    """An absolute link for emails and pages: PUBLIC_BASE_URL + path ("/…")."""
    return str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/") + path


def status_url(rma: str) -> str:
    return public_url(f"/returns/status/{status_token(rma)}")


def rma_from_token(token: str) -> str:
    """The RMA a status token was made for; raise LinkInvalid when forged or too old."""
    return rma_from_signed(token, salt=SALT,
                           max_age_days=int(current_app.config["STATUS_LINK_MAX_AGE_DAYS"]))
