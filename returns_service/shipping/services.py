"""Return shipping use cases: a shipment per approved return (EasyPost provider), voiding an
unused label when the return ends without a parcel, the warehouse's Incoming list, staff's
retry of a failed label, and the addresses and parcel a label is bought for."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from returns_service.branding import current_brand
from returns_service.common.clock import utcnow
from returns_service.common.errors import NotFound, ValidationFailed
from returns_service.db import db
from returns_service.db.insert_once import insert_once
from returns_service.outbox.service import emit
from returns_service.returns.links import status_url
from returns_service.returns.models import Return, ReturnEvent
from returns_service.shipping.models import Shipment
from returns_service.shipping.slip import render_slip
from workflows.shipments import INCOMING, ShipmentStatus, fire

BUY_TOPIC = "shipping.buy_label"
VOID_TOPIC = "shipping.void_label"
PROVIDERS = ("self_ship", "easypost")


def provider() -> str:
    name = str(current_app.config.get("SHIPPING_PROVIDER") or "self_ship").lower()
    if name not in PROVIDERS:
        raise ValueError(f"SHIPPING_PROVIDER={name!r}: use one of {', '.join(PROVIDERS)}")
    return name


def on_status_changed(ret: Return, event: ReturnEvent, **_: Any) -> None:
    """Signal receiver (inside the return's transaction): approved → a shipment row and the
    job that buys its label; cancelled or expired → the unused label is voided."""
    status = str(event.to_status)
    # A customer who keeps the items sends no parcel: no label.
    if status == "approved" and provider() == "easypost" and not ret.keep_item:
        shipment_id = insert_once(Shipment, {
            "return_id": ret.id, "provider": "easypost", "status": "label_pending",
            "created_at": utcnow(), "updated_at": utcnow(), "status_changed_at": utcnow()},
            unique="return_id")
        if shipment_id is not None:
            emit(BUY_TOPIC, {"shipment_id": shipment_id},
                 dedupe_key=f"{BUY_TOPIC}:{shipment_id}")
    elif status in ("cancelled", "expired"):
        shipment = db.session.scalar(select(Shipment).where(Shipment.return_id == ret.id)
                                     .with_for_update())
        if shipment is None:
            return
        if shipment.status == ShipmentStatus.LABEL_READY:  # money to get back: a job asks
            emit(VOID_TOPIC, {"shipment_id": shipment.id},
                 dedupe_key=f"{VOID_TOPIC}:{shipment.id}")
        elif shipment.status in (ShipmentStatus.LABEL_PENDING, ShipmentStatus.LABEL_FAILED):
            # Nothing bought: the buy job, if it runs, finds it voided and stops; one whose
            # buy was already on its way records the label, then has it voided.
            fire(shipment, "void")
            shipment.voided_at = utcnow()


def shipment_of(ret: Return) -> Shipment | None:
    return db.session.scalar(select(Shipment).where(Shipment.return_id == ret.id))


def retry_label(rma: str) -> Shipment:
    """Staff: try a failed label again (after fixing the address or the settings)."""
    shipment = db.session.scalar(
        select(Shipment).join(Return, Shipment.return_id == Return.id)
        .where(Return.rma == rma).with_for_update(of=Shipment))
    if shipment is None:
        raise NotFound(f"Return {rma} has no shipment.")
    if shipment.status != ShipmentStatus.LABEL_FAILED:
        raise ValidationFailed({"shipment": [f"The label is {shipment.status}, not failed."]})
    fire(shipment, "retry_label")
    shipment.failure_code = shipment.failure_message = None
    # No job is buying a failed label: the next one may go at once (it retrieves the
    # EasyPost shipment first anyway, when one was created).
    shipment.buy_started_at = None
    emit(BUY_TOPIC, {"shipment_id": shipment.id})
    return shipment


def incoming(limit: int = 200) -> list[Shipment]:
    """Parcels on their way to the warehouse, the soonest expected first."""
    return list(db.session.scalars(
        select(Shipment).where(Shipment.status.in_([str(s) for s in INCOMING]))
        .options(joinedload(Shipment.return_).joinedload(Return.order))
        .order_by(Shipment.est_delivery_at.asc().nulls_last(), Shipment.id).limit(limit)))


# --- what a label is bought for ------------------------------------------------------------

def warehouse_address() -> dict[str, Any]:
    cfg = current_app.config
    return {"name": cfg.get("WAREHOUSE_NAME"),
            "company": cfg.get("WAREHOUSE_COMPANY") or current_brand().store_name,
            "street1": cfg.get("WAREHOUSE_STREET1"), "street2": cfg.get("WAREHOUSE_STREET2"),
            "city": cfg.get("WAREHOUSE_CITY"), "state": cfg.get("WAREHOUSE_STATE"),
            "zip": cfg.get("WAREHOUSE_ZIP"), "country": cfg.get("WAREHOUSE_COUNTRY"),
            "phone": cfg.get("WAREHOUSE_PHONE")}


def address_lines(address: dict[str, Any] | None) -> list[str]:
    """An address as printed on the slip."""
    if not address:
        return []
    city = " ".join(str(address[k]) for k in ("zip", "city", "state") if address.get(k))
    return [str(address[k]) for k in ("name", "company", "street1", "street2")
            if address.get(k)] + [line for line in (city, address.get("country")) if line]


def parcel_for(ret: Return) -> dict[str, Any]:
    """The parcel's size from the settings, its weight from the items' count."""
    cfg = current_app.config
    count = sum(item.quantity for item in ret.items) or 1
    return {"length": cfg["SHIPPING_PARCEL_LENGTH_IN"], "width": cfg["SHIPPING_PARCEL_WIDTH_IN"],
            "height": cfg["SHIPPING_PARCEL_HEIGHT_IN"],
            "weight": cfg["SHIPPING_ITEM_WEIGHT_OZ"] * count}


# --- what the customer sees ----------------------------------------------------------------

SLIP_STATUSES = ("approved",)  # a parcel is still to be sent


def slip_pdf(ret: Return) -> bytes:
    """The return slip of an approved return (see shipping.slip)."""
    cfg = current_app.config
    shipment = shipment_of(ret)
    address = address_lines(warehouse_address()) if cfg.get("WAREHOUSE_STREET1") else \
        [line.strip() for line in str(cfg.get("RETURN_ADDRESS") or "").split(",") if line.strip()]
    carrier = (f"Tracking: {shipment.carrier} {shipment.tracking_code}"
               if shipment is not None and shipment.tracking_code else None)
    return render_slip(shop_name=current_brand().store_name, rma=ret.rma,
                       status_url=status_url(ret.rma),
                       items=[(i.order_line.sku, i.order_line.name, i.quantity)
                              for i in ret.items], address=address, carrier_line=carrier)


def shipping_view(ret: Return) -> dict[str, Any] | None:
    """The status page's shipping panel: slip, label and where the parcel is."""
    shipment = shipment_of(ret)
    if ret.status not in SLIP_STATUSES and shipment is None:
        return None
    view: dict[str, Any] = {"slip": ret.status in SLIP_STATUSES, "label": False,
                            "status": None, "tracking_code": None, "carrier": None,
                            "est_delivery_at": None}
    if shipment is not None:
        view.update(label=shipment.label_key is not None and ret.status in SLIP_STATUSES
                    and shipment.status == ShipmentStatus.LABEL_READY,
                    status=str(shipment.status), tracking_code=shipment.tracking_code,
                    carrier=shipment.carrier, est_delivery_at=shipment.est_delivery_at)
    return view
