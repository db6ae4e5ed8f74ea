"""Settings: read from the environment inside the app factory, never at import time."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

# Every setting the service understands, with its built-in default.
DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,  # generated per instance folder when unset (see create_app)
    "DATABASE_URL": None,  # None -> SQLite file in the instance folder
    "REDIS_URL": None,  # None -> jobs run in-process after commit
    "RQ_QUEUE": "returns",
    "RETURN_POLICY_FILE": None,  # TOML; None -> built-in defaults
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    "STRIPE_API_KEY": None,
    "STRIPE_API_BASE": None,  # e.g. http://127.0.0.1:8420 for localstripe
    "STRIPE_WEBHOOK_SECRET": None,
    # How long a job that is calling Stripe keeps other jobs off the same refund. Must exceed
    # the longest possible call (30 s timeout x 3 tries + backoff); see refunds/services.py.
    "REFUND_SUBMIT_LEASE_SECONDS": 120,
    "SMTP_URL": None,  # smtp://user:pass@host:port, smtps://… or smtp+starttls://…
    "MAIL_FROM": "Returns <returns@example.com>",
    "FIRST_RESPONSE_TARGET_HOURS": 24,
    # Customer notifications and scheduled work (see README).
    "SHOP_NAME": "Returns",  # signs customer emails
    "SUPPORT_EMAIL": None,  # Reply-To on customer emails; None -> MAIL_FROM
    "SMTP_TIMEOUT_SECONDS": 30,
    "RETURN_REMINDER_DAYS": 7,  # approved, parcel not arrived after N days -> one reminder
    "RETURN_EXPIRY_DAYS": 21,  # approved, parcel not arrived after M days -> expired
    "REFUND_STATEMENT_TEXT": "5 to 10 business days",  # when a refund shows on a statement
    "FEEDBACK_LINK_MAX_AGE_DAYS": 90,
    "STATUS_LINK_MAX_AGE_DAYS": 90,
    "RATELIMIT_LOOKUP": "10 per minute",
    "RATELIMIT_LOGIN": "10 per minute",  # staff sign-in, per address and per account
    "RATELIMIT_ENABLED": True,  # off only where something in front already limits lookups
    "RETURN_ADDRESS": None,  # where customers send parcels; shown on the portal pages
    "METRICS_TOKEN": None,
    "LOG_LEVEL": "INFO",
    # werkzeug's default; tests use a cheap method so fixtures stay fast
    "PASSWORD_HASH_METHOD": "scrypt",
}

INT_SETTINGS = {"FIRST_RESPONSE_TARGET_HOURS", "STATUS_LINK_MAX_AGE_DAYS",
                "SMTP_TIMEOUT_SECONDS", "RETURN_REMINDER_DAYS", "RETURN_EXPIRY_DAYS",
                "FEEDBACK_LINK_MAX_AGE_DAYS", "REFUND_SUBMIT_LEASE_SECONDS"}
BOOL_SETTINGS = {"RATELIMIT_ENABLED"}
_BOOL_WORDS = {"1": True, "true": True, "yes": True, "on": True,
               "0": False, "false": False, "no": False, "off": False}


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Merge defaults, environment variables and explicit overrides (tests pass those)."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    for key in DEFAULTS:
        value = environ.get(key)
        if value not in (None, ""):
            settings[key] = _parse(key, value)
    if overrides:
        settings.update(overrides)
    return settings


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _parse(key: str, value: str) -> Any:
    if key in INT_SETTINGS:
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"{key}={value!r}: use a whole number, e.g. 30") from None
    if key == "LOG_LEVEL":  # any name `logging` knows (WARN too), as its canonical name
        level = logging.getLevelName(value.strip().upper())
        if not isinstance(level, int):
            raise ValueError(f"{key}={value!r}: use one of {', '.join(LOG_LEVELS)}")
        return logging.getLevelName(level)
    if key in ("RATELIMIT_LOOKUP", "RATELIMIT_LOGIN"):
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError(f"{key}={value!r}: use a rate such as '10 per minute' or "
                             "'10/minute;100/hour'") from None
    if key in BOOL_SETTINGS:
        word = value.strip().lower()
        if word not in _BOOL_WORDS:
            raise ValueError(f"{key}={value!r}: use one of {', '.join(_BOOL_WORDS)}")
        return _BOOL_WORDS[word]
    return value


def sqlalchemy_url(url: str) -> str:
    """Normalise a DATABASE_URL so SQLAlchemy uses psycopg 3 for PostgreSQL."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
