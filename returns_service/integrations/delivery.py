"""Delivering webhooks: one job per endpoint at a time, the oldest pending event first, each
attempt signed afresh (Standard Webhooks), retried with exponential backoff and jitter.

- One delivery in flight per endpoint: a job first claims the endpoint (`delivering_since`,
  set by a conditional UPDATE and committed); another job finding it claimed leaves, and the
  holder re-checks for new work after letting go. A claim older than WEBHOOK_LEASE_SECONDS
  (a worker died mid-call) is taken over.
- Ordering: the pending delivery with the lowest sequence goes first; while it waits for a
  retry, the later ones wait behind it.
- Attempts are recorded before the call (a crash still counts it) and their outcome after,
  outside any row lock. A 2xx is delivered; a timeout, a connection error or any other
  status is retried at `next_attempt_at`, which the scheduler's pass (`retry_due`) honours;
  410 Gone disables the endpoint. Events older than WEBHOOK_RETRY_HOURS fail, and an
  endpoint failing that long is disabled and the admins are emailed.
"""

from __future__ import annotations

import json
import logging
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import aliased
from standardwebhooks.webhooks import Webhook

from returns_service.common.clock import utcnow
from returns_service.common.sealed import SecretUnreadable, unseal
from returns_service.db import db
from returns_service.integrations import alerts
from returns_service.integrations.events import DELIVER_TOPIC
from returns_service.integrations.models import WebhookDelivery, WebhookEndpoint
from returns_service.integrations.ssrf import TargetRefused, check_target, post_pinned
from returns_service.outbox.service import emit
from workflows.webhook_deliveries import can_fire, fire

log = logging.getLogger(__name__)

BODY_KEPT = 1000  # characters of a receiver's answer kept in the delivery log
FIRST_RETRY_SECONDS = 5
BACKOFF_FACTOR = 4
MAX_RETRY_SECONDS = 6 * 3600
JITTER = 0.25  # each delay is drawn from ±25 % around its nominal value
USER_AGENT = "returns-service-webhooks/1"


def retry_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 5 s, 20 s, 80 s, 5 min, 21 min,
    85 min, 5.7 h, then every 6 h, each ±25 % (jitter spreads the retries of many events)."""
    nominal = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * BACKOFF_FACTOR ** (attempts - 1))
    spread = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return timedelta(seconds=nominal * spread)


def signed_headers(endpoint: WebhookEndpoint, message_id: str, body: bytes,
                   now: datetime) -> dict[str, str]:
    """Standard Webhooks headers for one attempt. The timestamp is the wall clock of the
    attempt (receivers compare it with theirs), and while a rotated-out secret is still
    valid its signature is sent too."""
    sent_at = datetime.fromtimestamp(time.time(), UTC)
    signatures = [Webhook(unseal(endpoint.sealed_secret)).sign(message_id, sent_at, body)]
    if endpoint.sealed_previous_secret and endpoint.previous_secret_expires_at \
            and endpoint.previous_secret_expires_at > now:
        try:
            previous = unseal(endpoint.sealed_previous_secret)
        except SecretUnreadable:  # receivers that switched verify the current one
            log.error("webhook endpoint %s: its previous signing secret cannot be opened, "
                      "so only the current one signs", endpoint.id)
        else:
            signatures.append(Webhook(previous).sign(message_id, sent_at, body))
    return {"webhook-id": message_id, "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": " ".join(signatures), "content-type": "application/json",
            "user-agent": USER_AGENT}


def _claim(endpoint_id: int, now: datetime) -> bool:
    table = WebhookEndpoint.__table__
    stale = now - timedelta(seconds=int(current_app.config["WEBHOOK_LEASE_SECONDS"]))
    claimed = db.session.execute(
        update(table).where(table.c.id == endpoint_id, table.c.enabled.is_(True),
                            or_(table.c.delivering_since.is_(None),
                                table.c.delivering_since <= stale))
        .values(delivering_since=now)).rowcount
    db.session.commit()
    return bool(claimed)


def _release(endpoint_id: int) -> None:
    table = WebhookEndpoint.__table__
    db.session.execute(update(table).where(table.c.id == endpoint_id)
                       .values(delivering_since=None))
    db.session.commit()


def _head(endpoint_id: int) -> WebhookDelivery | None:
    """The endpoint's oldest pending delivery (the next one to go, in order)."""
    return db.session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id,
                                      WebhookDelivery.status == "pending")
        .order_by(WebhookDelivery.sequence).limit(1)
        .execution_options(populate_existing=True))


def _due(delivery: WebhookDelivery | None, now: datetime) -> bool:
    return delivery is not None and (delivery.next_attempt_at is None
                                     or delivery.next_attempt_at <= now)


def deliver_endpoint(endpoint_id: int) -> str:
    """Job: deliver the endpoint's due events in order, until one fails or none is due.
    Safe to run twice at once (the second leaves)."""
    sent = 0
    for _ in range(3):  # after letting go, new work may have arrived meanwhile
        now = utcnow()
        if not _due(_head(endpoint_id), now):
            db.session.rollback()
            break
        if not _claim(endpoint_id, now):
            return f"busy or disabled ({sent} delivered)"
        try:
            while True:
                now = utcnow()
                delivery = _head(endpoint_id)
                if not _due(delivery, now):
                    break
                assert delivery is not None
                outcome = attempt(delivery)
                if outcome != "delivered":
                    return f"{outcome} ({sent} delivered)"
                sent += 1
        finally:
            db.session.rollback()
            _release(endpoint_id)
    return f"{sent} delivered"


def attempt(delivery: WebhookDelivery) -> str:
    """One attempt of `delivery` (the caller holds the endpoint's claim): recorded before
    the call, sent outside any transaction, its outcome recorded after."""
    endpoint = delivery.endpoint
    now = utcnow()
    db.session.execute(update(WebhookEndpoint.__table__)
                       .where(WebhookEndpoint.__table__.c.id == endpoint.id)
                       .values(delivering_since=now))  # renews the claim for this call
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery_id, url = delivery.id, endpoint.url
    body = _body(delivery.payload)
    error: str | None = None
    try:
        headers: dict[str, str] | None = signed_headers(endpoint, delivery.message_id, body,
                                                        now)
    except SecretUnreadable as exc:  # recorded as a failed attempt: retried, and seen
        headers, error = None, str(exc)
    db.session.commit()
    status: int | None = None
    text: str | None = None
    started = time.monotonic()
    if headers is not None:
        status, text, error = _send(url, body, headers)
    latency = int((time.monotonic() - started) * 1000)
    return record_outcome(delivery_id, status=status, body=text, error=error,
                          latency_ms=latency)


def _send(url: str, body: bytes, headers: dict[str, str]
          ) -> tuple[int | None, str | None, str | None]:
    """POST one attempt to an address the target check vets now: (status, body, error)."""
    config = current_app.config
    try:
        addresses = check_target(url,
                                 allow_private=bool(config["WEBHOOK_ALLOW_PRIVATE_TARGETS"]))
        response = post_pinned(url, addresses, data=body, headers=headers,
                               timeout=int(config["WEBHOOK_TIMEOUT_SECONDS"]))
        return response.status_code, response.text[:BODY_KEPT], None
    except TargetRefused as exc:
        return None, None, str(exc)
    except requests.Timeout:
        return None, None, f"No answer within {config['WEBHOOK_TIMEOUT_SECONDS']} s."
    except requests.RequestException as exc:
        return None, None, f"{type(exc).__name__}: {exc}"[:BODY_KEPT]


def _body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def record_outcome(delivery_id: int, *, status: int | None, body: str | None,
                   error: str | None, latency_ms: int) -> str:
    """Write what one attempt got and decide what follows; commits."""
    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True,
                              with_for_update=True)
    assert delivery is not None
    endpoint = db.session.get(WebhookEndpoint, delivery.endpoint_id, populate_existing=True,
                              with_for_update=True)
    assert endpoint is not None
    now = utcnow()
    delivery.response_status, delivery.response_body = status, body
    delivery.latency_ms, delivery.last_error = latency_ms, error
    if status is not None and 200 <= status < 300:
        fire(delivery, "deliver")
        delivery.delivered_at, delivery.next_attempt_at = now, None
        endpoint.failing_since = None
        db.session.commit()
        return "delivered"
    if status == 410:
        fire(delivery, "fail")
        delivery.next_attempt_at = None
        disable_endpoint(endpoint, "The receiver answered 410 Gone: it no longer wants "
                         "these events.")
        db.session.commit()
        return "gone: endpoint disabled"
    endpoint.failing_since = endpoint.failing_since or now
    window = timedelta(hours=int(current_app.config["WEBHOOK_RETRY_HOURS"]))
    if now - endpoint.failing_since >= window:
        fire(delivery, "fail")
        delivery.next_attempt_at = None
        disable_endpoint(endpoint, f"Every attempt failed for {window.total_seconds() / 3600:g}"
                         f" hours (last: {error or f'HTTP {status}'}).")
        db.session.commit()
        return "failing too long: endpoint disabled"
    if now - delivery.created_at >= window:
        fire(delivery, "fail")
        delivery.next_attempt_at = None
        db.session.commit()
        return "given up"
    # The last retry falls at the window's end, where the endpoint is given up on.
    deadline = min(endpoint.failing_since, delivery.created_at) + window
    delivery.next_attempt_at = min(now + retry_delay(delivery.attempts), deadline)
    db.session.commit()
    return "retry later"


def disable_endpoint(endpoint: WebhookEndpoint, reason: str) -> None:
    """Stop sending to `endpoint`: its pending events fail (an admin can resend them from
    the delivery log once it works again) and the admins are emailed. The caller commits."""
    endpoint.enabled, endpoint.disabled_reason = False, reason
    assert can_fire("pending", "fail")  # the workflow's move, for every pending row at once
    db.session.execute(update(WebhookDelivery.__table__)
                       .where(WebhookDelivery.__table__.c.endpoint_id == endpoint.id,
                              WebhookDelivery.__table__.c.status == "pending")
                       .values(status="failed", next_attempt_at=None,
                               last_error="Not sent: the endpoint was disabled."))
    alerts.endpoint_disabled(endpoint, reason)
    log.warning("webhook endpoint %s (%s) disabled: %s", endpoint.id, endpoint.url, reason)


def retry_due(now: datetime) -> int:
    """Periodic: queue a delivery job for each enabled endpoint whose next event is due and
    that no live job holds (retries, and work a dead worker left). Commits."""
    stale = now - timedelta(seconds=int(current_app.config["WEBHOOK_LEASE_SECONDS"]))
    head, earlier = aliased(WebhookDelivery), aliased(WebhookDelivery)
    # Only the head of each endpoint's queue counts: the events behind a head waiting for
    # its retry wait with it.
    head_is_due = select(head.id).where(
        head.endpoint_id == WebhookEndpoint.id, head.status == "pending",
        head.next_attempt_at <= now,
        ~select(earlier.id).where(earlier.endpoint_id == head.endpoint_id,
                                  earlier.status == "pending",
                                  earlier.sequence < head.sequence).exists()).exists()
    endpoint_ids = list(db.session.scalars(
        select(WebhookEndpoint.id).where(
            WebhookEndpoint.enabled.is_(True),
            or_(WebhookEndpoint.delivering_since.is_(None),
                WebhookEndpoint.delivering_since <= stale),
            head_is_due)))
    for endpoint_id in endpoint_ids:
        emit(DELIVER_TOPIC, {"endpoint_id": endpoint_id})
    db.session.commit()
    return len(endpoint_ids)
