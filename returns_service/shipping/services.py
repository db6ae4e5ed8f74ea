"""Return shipping use cases: a shipment per approved return (EasyPost provider), voiding an
unused label when the return ends without a parcel, the warehouse's Incoming list, staff's
retry of a failed label, and the addresses and parcel a label is bought for."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from returns_service.branding import current_brand
from returns_service.common.clock import utcnow
from returns_service.common.errors import NotFound, ValidationFailed
from returns_service.db import db
from returns_service.db.insert_once import insert_once
from returns_service.db.loaded import read_rows
from returns_service.outbox.service import emit
from returns_service.returns.links import status_url
from returns_service.returns.models import Return, ReturnEvent
from returns_service.shipping.models import Shipment
from returns_service.shipping.signals import parcel_sizes_asked
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


SIZES = ("weight_oz", "length_in", "width_in", "height_in")


def catalog_sizes(ret: Return) -> dict[str, dict[str, Any]]:
    """One unit's weight and size by SKU, as the catalog knows them (asked by signal)."""
    known: dict[str, dict[str, Any]] = {}
    for _receiver, answer in parcel_sizes_asked.send(ret):
        for sku, sizes in (answer or {}).items():
            known.setdefault(sku, {}).update({k: v for k, v in sizes.items() if v})
    return known


def parcel_for(ret: Return) -> dict[str, Any]:
    """The parcel of a return: each unit weighs what its order line says (`weight_oz`), else
    what the catalog says of its SKU, else SHIPPING_ITEM_WEIGHT_OZ. Its size is the
    SHIPPING_PARCEL_* box, unless a unit's size is known (line, else catalog): then the box
    is as long and wide as the largest unit and as high as the units stacked (a unit without
    a size counts as the default box)."""
    cfg = current_app.config
    default = {"length": cfg["SHIPPING_PARCEL_LENGTH_IN"], "width": cfg["SHIPPING_PARCEL_WIDTH_IN"],
               "height": cfg["SHIPPING_PARCEL_HEIGHT_IN"]}
    catalog = catalog_sizes(ret)
    weight, units, sized = 0, [], False
    for item in ret.items:
        line = item.order_line
        known = {k: getattr(line, k) or catalog.get(line.sku, {}).get(k) for k in SIZES}
        weight += (known["weight_oz"] or cfg["SHIPPING_ITEM_WEIGHT_OZ"]) * item.quantity
        size = {"length": known["length_in"], "width": known["width_in"],
                "height": known["height_in"]}
        sized = sized or any(size.values())
        units += [{k: v or default[k] for k, v in size.items()}] * item.quantity
    box = dict(default)
    if sized:
        box = {"length": max(u["length"] for u in units), "width": max(u["width"] for u in units),
               "height": sum(u["height"] for u in units)}
    return {**box, "weight": weight or cfg["SHIPPING_ITEM_WEIGHT_OZ"]}


# --- what the API shows ------------------------------------------------------------------

# Carriers' public tracking pages (others: no link).
TRACKING_PAGES = {
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={code}",
    "ups": "https://www.ups.com/track?tracknum={code}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={code}",
    "dhl": "https://www.dhl.com/global-en/home/tracking.html?tracking-id={code}",
}


def tracking_url(carrier: str | None, code: str | None) -> str | None:
    page = TRACKING_PAGES.get(str(carrier or "").lower().split(" ")[0])
    return page.format(code=quote(code)) if page and code else None


_SHIPMENTS = Shipment.__table__
# Built once: every answer about a return past its request runs it. The columns the answer
# shows, read as a row: no Shipment object to build for it.
_SHOWN = select(*(_SHIPMENTS.c[name] for name in (
    "provider", "status", "carrier", "service", "tracking_code", "est_delivery_at",
    "first_scan_at", "delivered_at", "label_key", "qr_code_key"))).where(
    _SHIPMENTS.c.return_id == bindparam("return_id"))


def shipment_json(ret: Return, *, links: bool) -> dict[str, Any] | None:
    """The API's `shipment` of a return (ShipmentOut); `links`: the slip, label and QR code
    links, which carry the customer's status token (same roles as the status link)."""
    if ret.status == "requested":  # a shipment starts at the approval: none to read yet
        return None
    rows = read_rows(db.session, _SHOWN, {"return_id": ret.id})
    shipment = rows[0] if rows else None
    if shipment is None and ret.status not in SLIP_STATUSES:
        return None
    base = status_url(ret.rma)
    shown: dict[str, Any] = {
        "provider": "self_ship", "status": None, "carrier": None, "service": None,
        "tracking_number": None, "tracking_url": None, "est_delivery_at": None,
        "first_scan_at": None, "delivered_at": None,
        "slip_url": f"{base}/slip.pdf" if links and ret.status in SLIP_STATUSES else None,
        "label_url": None, "qr_code_url": None}
    if shipment is not None:
        ready = ret.status in SLIP_STATUSES and shipment.status == ShipmentStatus.LABEL_READY
        shown.update(
            provider=shipment.provider, status=str(shipment.status), carrier=shipment.carrier,
            service=shipment.service, tracking_number=shipment.tracking_code,
            tracking_url=tracking_url(shipment.carrier, shipment.tracking_code),
            est_delivery_at=_iso(shipment.est_delivery_at),
            first_scan_at=_iso(shipment.first_scan_at), delivered_at=_iso(shipment.delivered_at),
            label_url=f"{base}/label" if links and ready and shipment.label_key else None,
            qr_code_url=f"{base}/qr-code" if links and ready and shipment.qr_code_key else None)
    return shown


def _iso(when: Any) -> str | None:
    return None if when is None else when.isoformat()


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
                            "qr_code": False, "status": None, "tracking_code": None,
                            "carrier": None, "est_delivery_at": None}
    if shipment is not None:
        ready = ret.status in SLIP_STATUSES and shipment.status == ShipmentStatus.LABEL_READY
        view.update(label=shipment.label_key is not None and ready,
                    qr_code=shipment.qr_code_key is not None and ready,
                    status=str(shipment.status), tracking_code=shipment.tracking_code,
                    carrier=shipment.carrier, est_delivery_at=shipment.est_delivery_at)
    return view
