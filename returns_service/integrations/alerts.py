"""Telling the admins that an endpoint was disabled: one email to each active admin, queued
with the change (notifications send it)."""

from __future__ import annotations

from sqlalchemy import select

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.integrations.models import WebhookEndpoint
from returns_service.notifications.services import queue_email
from returns_service.staff.models import StaffUser

STEP = "webhook_disabled"
SUBJECT = "Webhook endpoint disabled: {url}"


def endpoint_disabled(endpoint: WebhookEndpoint, reason: str) -> int:
    """Queue the email to every active admin; how many were queued."""
    admins = db.session.scalars(select(StaffUser).where(
        StaffUser.role == "admin", StaffUser.active.is_(True)).order_by(StaffUser.email))
    stamp = utcnow().isoformat()
    count = 0
    for admin in admins:
        if queue_email(admin.email, STEP, {"url": endpoint.url, "reason": reason,
                                            "endpoint_id": endpoint.id,
                                            "description": endpoint.description},
                       key=f"webhook-disabled:{endpoint.id}:{stamp}:{admin.email}",
                       subject=SUBJECT.format(url=endpoint.url)[:250]) is not None:
            count += 1
    return count
