"""What return shipping keeps of the customer: the label file and its QR code (their address
is printed on the label, the code leads to it) and the carrier's tracking events (scan
places), its eraser and exporter. The carrier, the label's cost and the tracking dates stay,
for the label-spend and transit figures."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, or_, select, update

from returns_service.db import db
from returns_service.privacy import Scope
from returns_service.shipping.models import CarrierEvent, Shipment
from returns_service.storage import storage


def _shipments(scope: Scope) -> list[Shipment]:
    return list(db.session.scalars(select(Shipment).where(
        Shipment.return_id.in_(scope.return_ids)).order_by(Shipment.id)))


def erase_labels(scope: Scope) -> int:
    """Delete each label file (deleting a missing file is fine: safe to run again), forget
    EasyPost's copy, and keep of each tracking event only what it was."""
    done = 0
    for shipment in _shipments(scope):
        if (shipment.label_key or shipment.label_url or shipment.qr_code_key
                or shipment.qr_code_url):
            for key in (shipment.label_key, shipment.qr_code_key):
                if key:
                    storage().delete(key)
            db.session.execute(update(Shipment).where(Shipment.id == shipment.id).values(
                label_key=None, label_url=None, label_content_type=None, qr_code_key=None,
                qr_code_url=None).execution_options(synchronize_session=False))
            done += 1
        done += _erase_events(shipment)
    return done


def _erase_events(shipment: Shipment) -> int:
    keys = [key for key in (shipment.tracker_id, shipment.provider_shipment_id) if key]
    if not keys:
        return 0
    text = cast(CarrierEvent.payload, String)
    done = 0
    for row in db.session.scalars(select(CarrierEvent).where(
            or_(*(text.contains(key) for key in keys)))):
        if row.payload.get("erased"):
            continue
        result = row.payload.get("result") or {}
        db.session.execute(update(CarrierEvent).where(CarrierEvent.id == row.id).values(
            payload={"id": row.payload.get("id"), "description": row.description,
                     "erased": True,
                     "result": {key: result.get(key) for key in
                                ("id", "object", "shipment_id", "tracking_code", "status")}})
            .execution_options(synchronize_session=False))
        done += 1
    return done


def export_shipments(scope: Scope) -> list[dict[str, Any]]:
    return [{"return_id": s.return_id, "carrier": s.carrier, "service": s.service,
             "tracking_code": s.tracking_code, "status": s.status,
             "delivered_at": s.delivered_at.isoformat() if s.delivered_at else None}
            for s in _shipments(scope)]
