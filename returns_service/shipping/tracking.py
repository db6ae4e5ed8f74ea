"""What EasyPost's tracker events do to a shipment (and, through it, to its return).

Events are stored once under their id by the webhook (`receive_event`), then applied by a job
(`apply_event`); trackers whose webhooks may have been lost are asked for on a schedule
(`poll_trackers`) and applied through the same path. A shipment only ever moves forward:
an event older than what we know (out of order, or repeated) finds no transition and
changes nothing. The first scan may start the
refund, when the policy trusts every reason of the return ("refund on first scan").
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select, update

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.db.insert_once import insert_once
from returns_service.outbox.registry import RetryLater
from returns_service.outbox.service import emit
from returns_service.refunds.receiving import settle
from returns_service.returns.review import flag_for_review
from returns_service.returns.services import current_policy, lock_return_by_id
from returns_service.shipping.easypost import (
    PermanentShippingError,
    TransientShippingError,
    _date,
)
from returns_service.shipping.labels import gateway
from returns_service.shipping.models import CarrierEvent, Shipment
from returns_service.shipping.services import provider
from returns_service.shipping.signals import shipment_changed
from workflows.returns import Actor
from workflows.shipments import INCOMING, can_fire, fire

log = logging.getLogger(__name__)
TOPIC = "easypost.event"
CARRIER = Actor.system("carrier")

# EasyPost tracker status -> the shipment trigger it fires (pre_transit: label printed,
# nothing scanned yet; unknown and error change nothing).
TRIGGER_OF_STATUS = {
    "in_transit": "first_scan", "out_for_delivery": "first_scan",
    "available_for_pickup": "first_scan", "delivered": "delivered",
    "return_to_sender": "returned_to_sender", "failure": "lost",
}


SCANNED = ("in_transit", "out_for_delivery", "available_for_pickup", "delivered")


def carrier_time(tracker: dict[str, Any], statuses: tuple[str, ...], *,
                 first: bool) -> datetime | None:
    """When the carrier says it happened (the tracker's `tracking_details`): the first (or
    last) detail in one of `statuses`, never later than now. A poll hours after the scan
    still dates it right, and the report's transit times with it."""
    found = [when for detail in tracker.get("tracking_details") or []
             if detail.get("status") in statuses and (when := _date(detail.get("datetime")))]
    if not found:
        return None
    return min(min(found) if first else max(found), utcnow())


def receive_event(event: dict[str, Any]) -> str:
    """Store a verified event once; a job applies it. `duplicate` when already stored."""
    description = str(event.get("description") or "")
    row_id = insert_once(CarrierEvent, {
        "event_id": str(event["id"]), "description": description[:64], "payload": event,
        "received_at": utcnow()}, unique="event_id")
    if row_id is None:
        return "duplicate"
    if not description.startswith("tracker."):
        db.session.execute(CarrierEvent.__table__.update()
                           .where(CarrierEvent.__table__.c.id == row_id)
                           .values(result="ignored", processed_at=utcnow()))
        return "ignored"
    emit(TOPIC, {"carrier_event_id": row_id}, dedupe_key=f"{TOPIC}:{row_id}")
    return "queued"


def apply_event(carrier_event_id: int) -> str:
    """The job of topic `easypost.event`: move the shipment the tracker belongs to."""
    row = db.session.get(CarrierEvent, carrier_event_id)
    if row is None or row.processed_at is not None:
        return "nothing to do"
    result = _apply(row.payload.get("result") or {}, moved_at=utcnow())
    row.result, row.processed_at = result, utcnow()
    db.session.commit()
    return result


def _apply(tracker: dict[str, Any], *, moved_at: datetime | None) -> str:
    """Move the tracker's shipment (forward only); `moved_at`: when the tracking last
    changed, as far as we know (a webhook: now; a poll: the tracker's `updated_at`)."""
    matches = [column == tracker[key] for column, key in (
        (Shipment.tracker_id, "id"), (Shipment.provider_shipment_id, "shipment_id"),
        (Shipment.tracking_code, "tracking_code")) if tracker.get(key)]
    shipment_id = db.session.scalar(
        select(Shipment.id).where(or_(*matches)).limit(1)) if matches else None
    if shipment_id is None:
        return "unknown shipment"
    shipment = db.session.scalar(select(Shipment).where(Shipment.id == shipment_id)
                                 .with_for_update().execution_options(populate_existing=True))
    assert shipment is not None
    ret = lock_return_by_id(shipment.return_id)
    status = str(tracker.get("status") or "")
    when = utcnow()
    if moved_at is not None and (shipment.last_tracking_at is None
                                 or moved_at > shipment.last_tracking_at):
        shipment.last_tracking_at = moved_at
    estimate = _date(tracker.get("est_delivery_date"))
    if estimate is not None:
        shipment.est_delivery_at = estimate
    trigger = TRIGGER_OF_STATUS.get(status)
    if trigger is None or not can_fire(shipment.status, trigger):
        return f"unchanged ({shipment.status})"  # never backwards
    first_scan = shipment.first_scan_at is None and trigger in ("first_scan", "delivered")
    fire(shipment, trigger)
    shipment.tracking_status = status
    if first_scan:
        shipment.first_scan_at = carrier_time(tracker, SCANNED, first=True) or when
    if trigger == "delivered":
        shipment.delivered_at = carrier_time(tracker, ("delivered",), first=False) or when
    shipment_changed.send(shipment, return_=ret, status=shipment.status)
    # Store credit is issued when the parcel is opened, never on a scan.
    if first_scan and ret.status == "approved" and ret.resolution == "refund" \
            and current_policy().refunds_on_first_scan([item.reason for item in ret.items]):
        _refund_on_first_scan(ret)
    return shipment.status


def _refund_on_first_scan(ret: Any) -> None:
    """Start the refund now, for the items asked for, as a refund on receipt would (under
    the order's lock, split over the order's payments); nothing to pay leaves the return
    waiting for its parcel."""
    settle(ret, CARRIER, as_requested=True, nothing_left=None,
           note="Refund started on the carrier's first scan.")


def poll_trackers(now: datetime, *, limit: int = 100) -> int:
    """Periodic: ask EasyPost for the trackers of parcels on their way whose tracking has not
    changed for SHIPPING_TRACKER_POLL_HOURS (a webhook may have been lost), each at most that
    often, and apply what they say as a webhook would (forward only). Returns how many
    shipments moved."""
    if provider() != "easypost":
        return 0
    try:
        client = gateway()
    except RetryLater:
        return 0
    since = now - timedelta(hours=int(current_app.config["SHIPPING_TRACKER_POLL_HOURS"]))
    quiet = func.coalesce(Shipment.last_tracking_at, Shipment.status_changed_at)
    due = db.session.scalars(
        select(Shipment.id).where(Shipment.status.in_([str(s) for s in INCOMING]),
                                  Shipment.tracker_id.is_not(None), quiet < since,
                                  or_(Shipment.polled_at.is_(None), Shipment.polled_at < since))
        .order_by(Shipment.polled_at.asc().nulls_first(), Shipment.id).limit(limit)).all()
    db.session.rollback()
    moved = 0
    for shipment_id in due:
        # Claimed first (compare-and-set): two schedulers never ask for the same tracker.
        claimed = db.session.execute(
            update(Shipment).where(Shipment.id == shipment_id,
                                   or_(Shipment.polled_at.is_(None), Shipment.polled_at < since))
            .values(polled_at=now).returning(Shipment.tracker_id)).scalar()
        db.session.commit()
        if claimed is None:
            continue
        try:
            tracker = client.tracker(str(claimed))
        except TransientShippingError as exc:  # EasyPost unreachable: the next pass tries
            log.warning("could not ask EasyPost for trackers: %s", exc)
            break
        except PermanentShippingError as exc:
            log.warning("EasyPost refused tracker %s: %s", claimed, exc.message)
            continue
        before = db.session.scalar(select(Shipment.status).where(Shipment.id == shipment_id))
        changed = _date(tracker.get("updated_at"))
        result = _apply(tracker, moved_at=min(changed, now) if changed else None)
        db.session.commit()
        moved += int(result != before and not result.startswith("unchanged"))
    return moved


def flag_stalled(now: datetime, *, limit: int = 100) -> int:
    """Periodic: a parcel on its way whose tracking has not moved for SHIPPING_STALLED_DAYS
    flags its return for staff (once). Returns how many were flagged."""
    days = int(current_app.config["SHIPPING_STALLED_DAYS"])
    since = now - timedelta(days=days)
    due = db.session.scalars(
        select(Shipment.id).where(Shipment.status == "in_transit", Shipment.stalled_at.is_(None),
                                  Shipment.last_tracking_at < since)
        .order_by(Shipment.id).limit(limit)).all()
    db.session.rollback()
    flagged = 0
    for shipment_id in due:
        shipment = db.session.scalar(select(Shipment).where(Shipment.id == shipment_id)
                                     .with_for_update().execution_options(populate_existing=True))
        if shipment is None or shipment.status != "in_transit" or shipment.stalled_at:
            db.session.rollback()
            continue
        ret = lock_return_by_id(shipment.return_id)
        shipment.stalled_at = now
        flag_for_review(ret, f"The parcel's tracking ({shipment.carrier} "
                        f"{shipment.tracking_code}) has not moved for {days} days: ask the "
                        "carrier, or the customer.", CARRIER)
        db.session.commit()
        flagged += 1
    return flagged
