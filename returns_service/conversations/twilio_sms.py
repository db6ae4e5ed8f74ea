"""The Twilio adapter: the only module importing `twilio`. Sends one SMS through the
Messages API and checks the signature of Twilio's webhooks (RequestValidator).

`TWILIO_API_BASE` points the real client at another server speaking the same API (a
loopback fake in the tests): the client's HTTP client rewrites Twilio's host, everything
else (auth, form encoding, the answer's parsing) is the library's own.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import current_app

# The library is imported when an SMS is sent or a webhook checked, not when the app starts:
# every web process, worker and command would otherwise pay for it, SMS set up or not.
TIMEOUT_SECONDS = 15


class SmsNotConfigured(Exception):
    """TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN or TWILIO_FROM_NUMBER is not set."""


class SmsRefused(Exception):
    """Twilio refused this message for good (a 4xx: bad number, opted out…)."""


class SmsUnavailable(Exception):
    """Twilio could not be reached or failed (5xx, network): the outcome is unknown."""


def _rebased_http_client(base: str) -> Any:
    """Twilio's own HTTP client, sending to `base` instead of https://*.twilio.com."""
    from twilio.http.http_client import TwilioHttpClient

    class RebasedHttpClient(TwilioHttpClient):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            parts, to = urlsplit(url), urlsplit(base)
            url = urlunsplit((to.scheme, to.netloc, to.path.rstrip("/") + parts.path,
                              parts.query, ""))
            return super().request(method, url, *args, **kwargs)

    return RebasedHttpClient(timeout=TIMEOUT_SECONDS)


def configured() -> bool:
    cfg = current_app.config
    return bool(cfg.get("TWILIO_ACCOUNT_SID") and cfg.get("TWILIO_AUTH_TOKEN")
                and cfg.get("TWILIO_FROM_NUMBER"))


def _client() -> Any:
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    cfg = current_app.config
    base = cfg.get("TWILIO_API_BASE")
    http = _rebased_http_client(base) if base else TwilioHttpClient(timeout=TIMEOUT_SECONDS)
    return Client(cfg["TWILIO_ACCOUNT_SID"], cfg["TWILIO_AUTH_TOKEN"], http_client=http)


def send_sms(to: str, body: str, status_callback: str | None) -> tuple[str, str]:
    """Hand one SMS to Twilio: (its sid, its status)."""
    from twilio.base.exceptions import TwilioRestException

    if not configured():
        raise SmsNotConfigured("set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                               "TWILIO_FROM_NUMBER")
    options: dict[str, Any] = {"to": to, "from_": current_app.config["TWILIO_FROM_NUMBER"],
                               "body": body}
    if status_callback:
        options["status_callback"] = status_callback
    try:
        message = _client().messages.create(**options)
    except TwilioRestException as exc:
        if 400 <= int(exc.status or 0) < 500 and exc.status != 429:
            raise SmsRefused(f"{exc.status} {exc.code}: {exc.msg}") from exc
        raise SmsUnavailable(f"{exc.status}: {exc.msg}") from exc
    except Exception as exc:  # network trouble, timeouts
        raise SmsUnavailable(f"{type(exc).__name__}: {exc}") from exc
    return str(message.sid), str(message.status)


def valid_signature(url: str, params: dict[str, str], signature: str | None) -> bool:
    """Whether a webhook request carries Twilio's signature under our auth token."""
    from twilio.request_validator import RequestValidator

    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    if not token or not signature:
        return False
    return bool(RequestValidator(token).validate(url, params, signature))
