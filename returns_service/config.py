"""Settings: read from the environment inside the app factory, never at import time.

`SETTINGS` is the one table of every setting the service understands: its default, how its
value is read, what it does and which part of the service it belongs to. `DEFAULTS`,
`INT_SETTINGS` and `BOOL_SETTINGS` are derived from it, and the documentation's
configuration page is rendered from it, so the two cannot drift apart.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KINDS = ("text", "int", "bool", "rate", "log level")


@dataclass(frozen=True)
class Setting:
    """One environment variable: `kind` says how its value is read (see `_parse`)."""

    name: str
    default: Any
    kind: str
    description: str
    area: str
    default_text: str = ""  # what the default means, when the value alone does not say

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind {self.kind!r} is not one of {KINDS}")


SERVICE = "Service"
REFUNDS = "Refunds and Stripe"
CUSTOMER = "Customer pages"
STAFF = "Staff console"
NOTIFICATIONS = "Notifications and scheduled work"
METRICS = "Metrics and logs"
AREAS = (SERVICE, REFUNDS, CUSTOMER, STAFF, NOTIFICATIONS, METRICS)

SETTINGS: tuple[Setting, ...] = (
    Setting("SECRET_KEY", None, "text",
            "Signs sessions and customer status links. Set it in production, the same for "
            "the web app and every worker.",
            SERVICE, "generated once into `instance/secret_key` (the start-up log warns)"),
    Setting("DATABASE_URL", None, "text",
            "`postgresql://user@host/db` in production (psycopg 3; `postgres://` works too). "
            "The start-up log says which database is used when it is unset.",
            SERVICE, "SQLite file `instance/returns.db`"),
    Setting("REPORTS_DATABASE_URL", None, "text",
            "A read replica of `DATABASE_URL` for the service-quality report and the "
            "dashboard, so their long reads run off the primary. Figures then lag by the "
            "replica's delay.", SERVICE, "unset: reports read `DATABASE_URL`"),
    Setting("REDIS_URL", None, "text",
            "`redis://host:6379/0`: background jobs go to RQ, so run a worker "
            "(`flask worker`). Also holds the rate-limit counters.",
            SERVICE, "unset: jobs run in-process right after each commit"),
    Setting("RQ_QUEUE", "returns", "text", "Name of the RQ queue the jobs go to.", SERVICE),
    Setting("PUBLIC_BASE_URL", "http://127.0.0.1:5000", "text",
            "Used in links sent to customers; `https://` turns on Secure cookies.", SERVICE),
    Setting("DEMO_MODE", False, "bool",
            "Set by `bin/demo`: shows admins the console's Demo mailbox (what the demo's "
            "mail sink received). Leave it off anywhere else.", SERVICE, "off"),
    Setting("DEMO_MAILBOX_DIR", None, "text",
            "Folder where the demo's mail sink stores what it receives, read by the Demo "
            "mailbox.", SERVICE, "`instance/demo-mailbox`"),
    Setting("RETURN_POLICY_FILE", None, "text",
            "A TOML file with the return policy; `examples/return-policy.toml` shows every "
            "key (see [Return policy](return-policy.md)).",
            SERVICE, "built-in policy"),
    Setting("PASSWORD_HASH_METHOD", "scrypt", "text",
            "werkzeug hashing method for staff passwords (werkzeug's default; the tests use "
            "a cheap method so fixtures stay fast).", SERVICE),
    Setting("MAX_BODY_API_BYTES", 65536, "int",
            "Largest request body the JSON API (`/api/`) accepts; a larger one is a `413` "
            "before it is read.", SERVICE),
    Setting("MAX_BODY_WEBHOOK_BYTES", 262144, "int",
            "Largest request body an inbound webhook (`/webhooks/`) accepts (`413` beyond).",
            SERVICE),
    Setting("MAX_BODY_PAGE_BYTES", 65536, "int",
            "Largest form the customer pages and the staff console accept (`413` beyond).",
            SERVICE),
    Setting("STRIPE_API_KEY", None, "text",
            "Stripe secret key (`sk_test_…` in test mode). Without it refunds wait in "
            "`refund_pending` and the job retries.",
            REFUNDS, "unset: refunds wait"),
    Setting("STRIPE_API_BASE", None, "text",
            "Another server speaking Stripe's API, e.g. `http://127.0.0.1:8420` for "
            "localstripe.", REFUNDS, "Stripe"),
    Setting("STRIPE_WEBHOOK_SECRET", None, "text",
            "`whsec_…`, to verify the `Stripe-Signature` header. Without it the webhook "
            "answers `503`, so Stripe retries later.", REFUNDS, "unset"),
    Setting("REFUND_SUBMIT_LEASE_SECONDS", 120, "int",
            "How long a job that is calling Stripe keeps other jobs off the same refund. "
            "Must exceed the longest possible call (30 s timeout x 3 tries + backoff).",
            REFUNDS),
    Setting("CREDIT_EXPIRY_DAYS", 0, "int",
            "Store credit issued from now on expires this many days later: the scheduler "
            "then writes off what the code still holds (see [Store credit](store-credit.md)). "
            "`0`: credit never expires. Codes already issued keep their date.",
            REFUNDS, "`0`: never"),
    Setting("TRUSTED_PROXY_HOPS", 0, "int",
            "How many proxies (load balancer, ingress) in front of the app add "
            "`X-Forwarded-For` and `X-Forwarded-Proto`: the client address (rate limits, "
            "logs) is read that many hops back. Leave `0` when clients reach the app "
            "directly, or anyone could pick their own address by sending the header.",
            SERVICE),
    Setting("RATELIMIT_LOOKUP", "10 per minute", "rate",
            "Order and find-my-return lookups per client address, shared by the customer "
            "pages and the public API; any [limits](https://limits.readthedocs.io) string, "
            "e.g. `10/minute;100/hour`.", CUSTOMER),
    Setting("RATELIMIT_ENABLED", True, "bool",
            "`0`, `off`, `false` or `no` turns the lookup limit off, only where something in "
            "front (a gateway) already limits lookups; a value it does not know stops the "
            "app.", CUSTOMER),
    Setting("RETURN_ADDRESS", None, "text",
            "Where customers send parcels: shown on the confirmation and status pages and in "
            "the approval email. Without it the start-up log warns and the pages say \"our "
            "returns address\".", CUSTOMER, "unset"),
    Setting("STATUS_LINK_MAX_AGE_DAYS", 90, "int",
            "How long a customer's status link stays valid.", CUSTOMER),
    Setting("RATELIMIT_LOGIN", "10 per minute", "rate",
            "Failed staff sign-ins per client address, whatever the account.", STAFF),
    Setting("RATELIMIT_LOGIN_ACCOUNT", "5 per minute;10 per hour;20 per day", "rate",
            "Failed sign-ins to one account from one client address. Several windows make a "
            "backoff: past 5 failures wait a minute, past 10 the hour, past 20 the day. "
            "Counted per address too, so a guesser elsewhere cannot lock the owner out.",
            STAFF),
    Setting("FIRST_RESPONSE_TARGET_HOURS", 24, "int",
            "First-response target for agents: older requests are marked overdue in the "
            "queue, escalated to agents once each, and counted late in the reports.", STAFF),
    Setting("SMTP_URL", None, "text",
            "`smtp://host:25` (plain), `smtp://user:pass@host:587?starttls=1` or "
            "`smtp+starttls://user:pass@host:587` (STARTTLS), `smtps://user:pass@host:465` "
            "(implicit TLS). URL-encode user and password; `?cafile=/path/ca.pem` trusts a "
            "private CA. Without it emails stay queued, nothing is lost.",
            NOTIFICATIONS, "unset: emails stay pending"),
    Setting("MAIL_FROM", "Returns <returns@example.com>", "text",
            "Sender of customer emails; its domain is used in `Message-ID`.", NOTIFICATIONS),
    Setting("SUPPORT_EMAIL", None, "text",
            "`Reply-To` of customer emails (customers are told to reply).",
            NOTIFICATIONS, "unset: replies go to `MAIL_FROM`"),
    Setting("SHOP_NAME", "Returns", "text", "Signs the customer emails.", NOTIFICATIONS),
    Setting("DEFAULT_LOCALE", "en", "text",
            "Language of the customer pages and emails when neither the order nor the browser "
            "names one the service ships: `en`, `de`, `fr`, `es` or `nl` (see Languages).",
            CUSTOMER),
    Setting("STORE_TIMEZONE", "UTC", "text",
            "IANA time zone (`Europe/Berlin`) the customer pages and emails show dates and "
            "times in. The staff console keeps UTC.", CUSTOMER),
    Setting("SMTP_TIMEOUT_SECONDS", 30, "int", "Timeout per SMTP connection.", NOTIFICATIONS),
    Setting("EMAIL_CLAIM_STALE_SECONDS", 600, "int",
            "An email a worker claimed and never finished (the worker died while sending) is "
            "taken over by the scheduler after this long. Keep it well above "
            "`SMTP_TIMEOUT_SECONDS`: a takeover while the first send still runs could send "
            "twice.", NOTIFICATIONS),
    Setting("OUTBOX_STALE_SECONDS", 300, "int",
            "Background work handed to Redis and still not done after this long (a worker "
            "died holding it, Redis lost it) is handed over again by the outbox relay. Every "
            "job is safe to run twice; lower values only re-send sooner.", SERVICE),
    Setting("RETURN_REMINDER_DAYS", 7, "int",
            "Approved this many days ago and no parcel yet: one reminder email.",
            NOTIFICATIONS),
    Setting("RETURN_EXPIRY_DAYS", 21, "int",
            "Approved this many days ago and no parcel yet: the return expires (the customer "
            "is told).", NOTIFICATIONS),
    Setting("REFUND_STATEMENT_TEXT", "5 to 10 business days", "text",
            "When a refund shows on a statement: \"Banks usually show it on your statement "
            "within …\", in the refund email and on the status page.", NOTIFICATIONS),
    Setting("FEEDBACK_LINK_MAX_AGE_DAYS", 90, "int",
            "How long the rating links in emails stay valid.", NOTIFICATIONS),
    Setting("METRICS_TOKEN", None, "text",
            "Bearer token `GET /metrics` asks for. When unset the endpoint is open: keep it "
            "off the public internet.", METRICS, "unset: open"),
    Setting("LOG_LEVEL", "INFO", "log level",
            "For the app and for `flask worker`, rq's own lines included (rq logs every job "
            "at `INFO`); any level name `logging` knows (`WARN` too).", METRICS),
    Setting("LOG_FORMAT", "text", "text",
            "`text` (one line a record) or `json` (one JSON object a line, for a log "
            "collector). Both carry the request id: the `X-Request-ID` a proxy sent, or a new "
            "one, also in the background jobs that request queued.", METRICS),
    Setting("SENTRY_DSN", None, "text",
            "Report errors of the web process and the workers to Sentry (or a server speaking "
            "its protocol); jobs that only wait to be retried are not reported.",
            METRICS, "unset: no error reporting"),
    Setting("SENTRY_ENVIRONMENT", "production", "text",
            "The environment name errors are reported under (`staging`, `production`…).",
            METRICS),
)

# Every setting the service understands, with its built-in default.
DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS}
INT_SETTINGS = {s.name for s in SETTINGS if s.kind == "int"}
BOOL_SETTINGS = {s.name for s in SETTINGS if s.kind == "bool"}
RATE_SETTINGS = {s.name for s in SETTINGS if s.kind == "rate"}
LOG_LEVEL_SETTINGS = {s.name for s in SETTINGS if s.kind == "log level"}
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
    if key in LOG_LEVEL_SETTINGS:  # any name `logging` knows (WARN too), as its canonical name
        level = logging.getLevelName(value.strip().upper())
        if not isinstance(level, int):
            raise ValueError(f"{key}={value!r}: use one of {', '.join(LOG_LEVELS)}")
        return logging.getLevelName(level)
    if key in RATE_SETTINGS:
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
