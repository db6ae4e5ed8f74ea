"""Signed, expiring links to a return's customer status page (no guessable ids)."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "return-status-link"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def status_token(rma: str) -> str:
    return _serializer().dumps({"rma": rma})


def status_url(rma: str) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/returns/status/{status_token(rma)}"


class LinkInvalid(Exception):
    def __init__(self, expired: bool):
        self.expired = expired
        super().__init__("expired" if expired else "invalid")


def rma_from_token(token: str) -> str:
    """The RMA a status token was made for; raise LinkInvalid when forged or too old."""
    max_age = int(current_app.config["STATUS_LINK_MAX_AGE_DAYS"]) * 86400
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise LinkInvalid(expired=True) from exc
    except BadSignature as exc:
        raise LinkInvalid(expired=False) from exc
    return str(data["rma"])
