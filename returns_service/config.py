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
INTEGRATIONS = "Integrations"
CONVERSATIONS = "Conversations (email and SMS)"
FILES = "Files (labels, slips, photos)"
SHIPPING = "Return shipping"
AREAS = (SERVICE, REFUNDS, CUSTOMER, STAFF, NOTIFICATIONS, FILES, SHIPPING, CONVERSATIONS,
         INTEGRATIONS, METRICS)

SETTINGS: tuple[Setting, ...] = (
    Setting("SECRET_KEY", None, "text",
            "Signs sessions and customer status links. Set it in production, the same for "
            "the web app and every worker.",
            SERVICE, "generated once into `instance/secret_key` (the start-up log warns)"),
    Setting("ENCRYPTION_KEYS", None, "text",
            "Keys that seal the secrets the service stores and must read back (webhook "
            "signing secrets), comma-separated Fernet keys (`flask secrets new-key` prints "
            "one). The first seals, every one listed opens: put a new key first, run "
            "`flask secrets reseal`, then drop the old one. The same everywhere.",
            SERVICE, "a key derived from `SECRET_KEY` (changing `SECRET_KEY` then makes the "
            "stored secrets unreadable: set this first)"),
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
    Setting("SHOP_NAME", "Returns", "text",
            "The store's name: customer pages' header, emails (the Branding page overrides "
            "it).", NOTIFICATIONS),
    Setting("DEFAULT_LOCALE", "en", "text",
            "Language of the customer pages and emails when neither the order nor the browser "
            "names one the service ships: `en`, `de`, `fr`, `es` or `nl` (see Languages).",
            CUSTOMER),
    Setting("BRAND_CACHE_SECONDS", 10, "int",
            "How long a process keeps the store's look (Branding page) before reading it "
            "again. A change is seen at once by the process that saved it and within this "
            "many seconds by the others; 0 reads it for every page and email.", CUSTOMER),
    Setting("BRAND_PRIMARY_COLOR", "#0b5cad", "text",
            "Primary colour of the customer pages and emails (buttons, links), `#rrggbb`. White "
            "text on it must reach a 4.5:1 contrast ratio, or the service refuses to start "
            "(see Branding; the Branding page overrides it).", CUSTOMER),
    Setting("SUPPORT_PHONE", None, "text",
            "Support phone number shown in the footer of customer pages and emails.",
            CUSTOMER, "unset: no phone number shown"),
    Setting("TERMS_URL", None, "text",
            "Link to the store's terms, in the footer of customer pages and emails.",
            CUSTOMER, "unset: no link"),
    Setting("PRIVACY_URL", None, "text",
            "Link to the store's privacy notice, in the footer of customer pages and emails.",
            CUSTOMER, "unset: no link"),
    Setting("BRAND_LOGO_MAX_BYTES", 524288, "int",
            "Largest logo file the Branding page accepts (PNG, JPEG or WebP).", CUSTOMER),
    Setting("MAX_BODY_BRAND_BYTES", 1048576, "int",
            "Largest form the Branding page (`/staff/brand`, with its logo) accepts (`413` "
            "beyond).", SERVICE),
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
    Setting("WEBHOOK_ALLOW_PRIVATE_TARGETS", False, "bool",
            "Allow outbound webhook endpoints whose host resolves to a private, loopback or "
            "link-local address (a receiver on your own network). Off, such endpoints are "
            "refused, so a staff account cannot make the service call internal systems.",
            INTEGRATIONS, "off"),
    Setting("WEBHOOK_TIMEOUT_SECONDS", 5, "int",
            "How long a webhook receiver has to answer; a slower answer is retried.",
            INTEGRATIONS),
    Setting("WEBHOOK_RETRY_HOURS", 72, "int",
            "How long an event is retried (exponential backoff with jitter) before it is "
            "marked failed. An endpoint failing for this long is disabled and the admins "
            "are emailed.", INTEGRATIONS),
    Setting("WEBHOOK_LEASE_SECONDS", 60, "int",
            "How long a job delivering to an endpoint keeps other jobs off it (one delivery "
            "in flight per endpoint). Must exceed `WEBHOOK_TIMEOUT_SECONDS`; after a worker "
            "died mid-delivery, the next job takes over once it has run out.", INTEGRATIONS),
    Setting("STRIPE_IMPORT_ORDERS", False, "bool",
            "Create or update orders from Stripe Checkout: `checkout.session.completed` and "
            "`checkout.session.async_payment_succeeded` on the Stripe webhook (see "
            "[Integrations](integrations.md)).", INTEGRATIONS, "off"),
    Setting("STRIPE_ORDER_NUMBER_KEY", "order_number", "text",
            "The Checkout Session metadata key holding the store's order number; a session "
            "without it is imported under its own id (`cs_…`).", INTEGRATIONS),
    Setting("REPLY_DOMAIN", None, "text",
            "Domain of the per-return reply addresses (`returns+R-ABC123.<signature>@` this "
            "domain), used as `Reply-To` of customer emails so replies join the return's "
            "conversation. Its mail must reach the SMTP receiver or an inbound webhook "
            "(see [Conversations](conversations.md)).",
            CONVERSATIONS, "unset: no reply addresses, `Reply-To` is `SUPPORT_EMAIL`"),
    Setting("INBOUND_SMTP_HOST", "127.0.0.1", "text",
            "Address the built-in SMTP receiver (`flask conversations smtp`) listens on.",
            CONVERSATIONS),
    Setting("INBOUND_SMTP_PORT", 2525, "int",
            "Port of the built-in SMTP receiver (put port 25 in front of it).", CONVERSATIONS),
    Setting("MAILGUN_WEBHOOK_SIGNING_KEY", None, "text",
            "Mailgun's webhook signing key: `POST /webhooks/inbound-email/mailgun` checks "
            "each message's HMAC signature with it (`503` while unset).",
            CONVERSATIONS, "unset: the Mailgun route refuses"),
    Setting("INBOUND_EMAIL_BASIC_AUTH", None, "text",
            "`user:password` that Postmark or SendGrid send (in the webhook URL) to "
            "`/webhooks/inbound-email/postmark` or `/sendgrid`; they do not sign.",
            CONVERSATIONS, "unset"),
    Setting("INBOUND_EMAIL_URL_SECRET", None, "text",
            "A long random string: `/webhooks/inbound-email/<provider>/<secret>` is accepted "
            "without basic auth (for providers that cannot send it).",
            CONVERSATIONS, "unset"),
    Setting("TWILIO_ACCOUNT_SID", None, "text",
            "Twilio account SID (`AC…`): with the token and the number, customers may opt in "
            "to SMS on their status page.", CONVERSATIONS, "unset: no SMS"),
    Setting("TWILIO_AUTH_TOKEN", None, "text",
            "Twilio auth token: sends the SMS and checks the `X-Twilio-Signature` of "
            "`/webhooks/twilio/…`.", CONVERSATIONS, "unset"),
    Setting("TWILIO_FROM_NUMBER", None, "text",
            "The Twilio number SMS are sent from (E.164, `+15005550006`); its \"A message "
            "comes in\" webhook is `POST /webhooks/twilio/inbound`.", CONVERSATIONS, "unset"),
    Setting("TWILIO_API_BASE", None, "text",
            "Another server speaking Twilio's Messages API (a test fake).",
            CONVERSATIONS, "Twilio"),
    Setting("AUTO_ASSIGN", False, "bool",
            "Round robin: a new return, or an unassigned one the customer writes about, goes "
            "to the next agent in turn who is not away (see [Conversations](conversations.md)).",
            STAFF, "off"),
    Setting("RATELIMIT_MESSAGES", "5 per minute;30 per hour", "rate",
            "Messages a client address may send from customer status pages.", CUSTOMER),
    Setting("STORAGE_BACKEND", "local", "text",
            "`local` (files under `STORAGE_LOCAL_DIR`) or `s3` (any S3-compatible object "
            "store: AWS S3, MinIO, Ceph…). Use `s3` when the web app and the workers run on "
            "several machines.", FILES),
    Setting("STORAGE_LOCAL_DIR", None, "text",
            "Folder of the `local` backend.", FILES, "`instance/files`"),
    Setting("STORAGE_S3_BUCKET", None, "text", "Bucket of the `s3` backend (it must exist).",
            FILES, "unset"),
    Setting("STORAGE_S3_PREFIX", "", "text",
            "Key prefix inside the bucket, e.g. `returns/` to share a bucket.", FILES, "none"),
    Setting("STORAGE_S3_ENDPOINT_URL", None, "text",
            "Another server speaking S3, e.g. `http://minio:9000`.", FILES, "AWS S3"),
    Setting("STORAGE_S3_REGION", None, "text", "Region of the bucket, e.g. `eu-west-1`.",
            FILES, "boto3's default"),
    Setting("STORAGE_S3_ACCESS_KEY_ID", None, "text",
            "Access key of the `s3` backend.", FILES,
            "unset: boto3's own chain (environment, instance role)"),
    Setting("STORAGE_S3_SECRET_ACCESS_KEY", None, "text",
            "Secret key of the `s3` backend.", FILES,
            "unset: boto3's own chain (environment, instance role)"),
    Setting("PHOTOS_MAX_PER_ITEM", 3, "int",
            "Photos a customer may attach to each item of a return (0: no photo upload).",
            FILES),
    Setting("PHOTO_MAX_BYTES", 10 * 1024 * 1024, "int",
            "Largest photo a customer may upload, in bytes (refused on the form beyond).", FILES),
    Setting("PHOTOS_REQUIRED_FOR", "damaged,defective", "text",
            "Return reasons (policy codes, comma-separated) whose items need at least one "
            "photo on the customer form.", FILES),
    Setting("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, "int",
            "Largest attachment of a customer's email that is kept (a larger one is listed, "
            "not stored).", FILES),
    Setting("MAX_BODY_UPLOAD_BYTES", 40 * 1024 * 1024, "int",
            "Largest request body of the return form's items step, which carries photos "
            "(`413` beyond).", SERVICE),
    Setting("MAX_BODY_INBOUND_EMAIL_BYTES", 26 * 1024 * 1024, "int",
            "Largest request body of the inbound-email webhooks, attachments included "
            "(`413` beyond).", SERVICE),
    Setting("SHIPPING_PROVIDER", "self_ship", "text",
            "`self_ship`: the customer sends the parcel themselves with the printable return "
            "slip; `easypost`: a prepaid return label is bought through EasyPost on approval "
            "(the slip comes too). See [Return shipping](shipping.md).", SHIPPING),
    Setting("EASYPOST_API_KEY", None, "text",
            "EasyPost API key (a test key buys test labels). Without it labels wait and the "
            "job retries.", SHIPPING, "unset: labels wait"),
    Setting("EASYPOST_API_BASE", None, "text",
            "Another server speaking EasyPost's API (tests point it at a loopback fake).",
            SHIPPING, "EasyPost"),
    Setting("EASYPOST_WEBHOOK_SECRET", None, "text",
            "The webhook secret set on the EasyPost webhook, to verify `X-Hmac-Signature`. "
            "Without it `POST /webhooks/easypost` answers `503`.", SHIPPING, "unset"),
    Setting("WAREHOUSE_NAME", "Returns department", "text",
            "Name on the warehouse address (the label's recipient).", SHIPPING),
    Setting("WAREHOUSE_COMPANY", None, "text", "Company on the warehouse address.", SHIPPING,
            "`SHOP_NAME`"),
    Setting("WAREHOUSE_STREET1", None, "text", "Warehouse street address.", SHIPPING, "unset"),
    Setting("WAREHOUSE_STREET2", None, "text", "Second address line.", SHIPPING, "unset"),
    Setting("WAREHOUSE_CITY", None, "text", "Warehouse city.", SHIPPING, "unset"),
    Setting("WAREHOUSE_STATE", None, "text", "Warehouse state or region.", SHIPPING, "unset"),
    Setting("WAREHOUSE_ZIP", None, "text", "Warehouse postal code.", SHIPPING, "unset"),
    Setting("WAREHOUSE_COUNTRY", "US", "text", "Warehouse country (ISO 3166 code).", SHIPPING),
    Setting("WAREHOUSE_PHONE", None, "text", "Warehouse phone, which some carriers require.",
            SHIPPING, "unset"),
    Setting("SHIPPING_ITEM_WEIGHT_OZ", 16, "int",
            "Weight of one returned item, in ounces, for the parcel when the order line does "
            "not give one.", SHIPPING),
    Setting("SHIPPING_PARCEL_LENGTH_IN", 12, "int", "Parcel length, in inches.", SHIPPING),
    Setting("SHIPPING_PARCEL_WIDTH_IN", 9, "int", "Parcel width, in inches.", SHIPPING),
    Setting("SHIPPING_PARCEL_HEIGHT_IN", 4, "int", "Parcel height, in inches.", SHIPPING),
    Setting("SHIPPING_BUY_LEASE_SECONDS", 120, "int",
            "How long a job that is buying a label keeps other jobs off the same shipment. "
            "Must exceed the longest possible call to EasyPost (30 s timeout).", SHIPPING),
    Setting("SHIPPING_STALLED_DAYS", 7, "int",
            "A parcel whose tracking has not moved for this many days flags its return for "
            "staff.", SHIPPING),
    Setting("SHIPPING_TRACKER_POLL_HOURS", 12, "int",
            "A parcel on its way whose tracking has not changed for this many hours has its "
            "tracker asked for (EasyPost webhooks may be lost); each at most this often.",
            SHIPPING),
    Setting("SHIPPING_QR_CARRIERS", "USPS", "text",
            "Comma-separated carriers whose labels also get a QR code (EasyPost form "
            "`label_qr_code`): the customer shows it at the counter instead of printing. "
            "Empty: none.", SHIPPING),
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
    Setting("PERSONAL_DATA_RETENTION_DAYS", 0, "int",
            "Returns closed (refunded, credited, rejected, cancelled, expired, closed) longer "
            "ago than this many days are anonymised by the scheduler: the customer's email, "
            "name, address, comments, messages, phone numbers and label files go; amounts, "
            "reasons, statuses and timings stay (see [Personal data](personal-data.md)). "
            "`730` keeps two years.", SERVICE, "`0` or empty: kept"),
    Setting("EXCHANGE_PAYMENT_STALE_HOURS", 25, "int",
            "An exchange still waiting for its difference this many hours after its last "
            "change is checked at Stripe by the scheduler (in case the webhook never came): "
            "a paid session lets it go on, an expired one, or no payment page opened at all, "
            "expires it and releases its stock. Stripe's payment pages last 24 hours.",
            REFUNDS),
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
