"""What the Stripe events received keep of the customer (a Checkout Session names its payer):
erased when the customer asks, by their email; the event's id, type and result stay."""

from __future__ import annotations

from sqlalchemy import String, cast, or_, select, update

from returns_service.db import db
from returns_service.payments.models import StripeEvent
from returns_service.privacy import Scope


def erase_events(scope: Scope) -> int:
    if not scope.emails:
        return 0
    text = cast(StripeEvent.payload, String)
    done = 0
    for event in db.session.scalars(select(StripeEvent).where(
            or_(*(text.contains(email) for email in scope.emails)))):
        db.session.execute(update(StripeEvent).where(StripeEvent.id == event.id).values(
            payload={"id": event.event_id, "type": event.type, "erased": True})
            .execution_options(synchronize_session=False))
        done += 1
    return done
