"""What the webhook delivery log keeps of the customer (the email in each `return.*` event's
payload), its eraser and exporter. Event types, statuses and attempts stay."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import String, cast, or_, select, update

from returns_service.db import db
from returns_service.integrations.models import WebhookDelivery
from returns_service.privacy import Scope
from returns_service.returns.models import Return

# Where an event's payload holds the customer's email (integrations.events.return_data).
PERSONAL_KEYS = ("customer_email",)


def _deliveries(scope: Scope) -> list[WebhookDelivery]:
    rmas = list(db.session.scalars(select(Return.rma).where(Return.id.in_(scope.return_ids))))
    terms = [f'"{rma}"' for rma in rmas] + list(scope.emails)
    if not terms:
        return []
    text = cast(WebhookDelivery.payload, String)
    return list(db.session.scalars(select(WebhookDelivery).where(
        or_(*(text.contains(term) for term in terms))).order_by(WebhookDelivery.id)))


def _redacted(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The payload without the customer's email, or None when it holds none."""
    found = copy.deepcopy(payload)
    section = (found.get("data") or {}).get("return")
    if not isinstance(section, dict) or not any(section.get(k) for k in PERSONAL_KEYS):
        return None
    for key in PERSONAL_KEYS:
        section[key] = None
    return found


def erase_deliveries(scope: Scope) -> int:
    done = 0
    for delivery in _deliveries(scope):
        payload = _redacted(delivery.payload)
        if payload is not None:
            db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery.id)
                               .values(payload=payload)
                               .execution_options(synchronize_session=False))
            done += 1
    return done


def export_deliveries(scope: Scope) -> list[dict[str, Any]]:
    return [{"event_type": d.event_type, "status": d.status, "payload": d.payload,
             "at": d.created_at.isoformat()} for d in _deliveries(scope)]
