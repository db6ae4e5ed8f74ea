"""Buying a return label exactly once, and voiding one nobody used.

EasyPost has no idempotency keys and its references are not unique, so exactly-once rests
on our own rows:
1. the shipment is created at EasyPost and its `shp_` id committed (compare-and-set on an
   empty column: of two jobs that both created one, one id wins, the other shipment is never
   bought; an unbought shipment costs nothing);
2. a lease is committed before the buy (`buy_started_at`, compare-and-set like the refunds'
   lease), so a concurrent job backs off instead of buying;
3. a job that finds an earlier buy started (a worker died mid-call) retrieves the shipment by
   its id first and buys only if it has no label yet; what EasyPost says is recorded;
4. likewise a mark (`create_started_at`) is committed before the create: a job that finds
   it set but no id (the worker died before recording the answer) first looks the shipment
   up by reference (the RMA), and creates one only if none is found.
The label file is then copied into storage; a failed copy is retried by the next run.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from returns_service.common import metrics
from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.outbox.registry import RetryLater
from returns_service.outbox.service import emit
from returns_service.returns.review import note_for_staff
from returns_service.returns.services import current_policy, lock_return_by_id
from returns_service.shipping.easypost import (
    EasyPostGateway,
    PermanentShippingError,
    ProviderShipment,
    TransientShippingError,
    cheapest,
)
from returns_service.shipping.models import Shipment
from returns_service.shipping.services import VOID_TOPIC, parcel_for, warehouse_address
from returns_service.shipping.signals import shipment_changed
from returns_service.storage import storage
from workflows.returns import Actor
from workflows.shipments import ShipmentStatus, fire

log = logging.getLogger(__name__)
EASYPOST = Actor.system("easypost")
# How far before our mark a shipment created by a lost call may be dated at EasyPost.
CLOCK_SKEW = timedelta(minutes=5)
NO_ADDRESS = ("The order has no shipping address, so no label can be bought. Add the address "
              "in the store and re-import the order, then retry the label; the customer can "
              "still send the parcel with the return slip.")


def gateway() -> EasyPostGateway:
    cfg = current_app.config
    if not cfg.get("EASYPOST_API_KEY"):
        raise RetryLater("EASYPOST_API_KEY is not configured; labels wait until it is")
    return EasyPostGateway(cfg["EASYPOST_API_KEY"], cfg.get("EASYPOST_API_BASE"))


def buy_lease() -> timedelta:
    return timedelta(seconds=int(current_app.config.get("SHIPPING_BUY_LEASE_SECONDS") or 0))


def _locked(shipment_id: int) -> Shipment | None:
    return db.session.scalar(select(Shipment).where(Shipment.id == shipment_id)
                             .with_for_update().execution_options(populate_existing=True))


def buy_label(shipment_id: int) -> str:
    """The job of topic `shipping.buy_label`: safe to run twice, or twice at once."""
    shipment = _locked(shipment_id)
    if shipment is None:
        return "missing"
    if shipment.status == ShipmentStatus.LABEL_READY and (shipment.label_key is None or (
            shipment.qr_code_key is None and offers_qr_code(shipment.carrier))):
        db.session.rollback()
        return copy_label(shipment_id)
    if shipment.status != ShipmentStatus.LABEL_PENDING:
        db.session.rollback()
        return f"nothing to do ({shipment.status})"
    client = gateway()
    ret = shipment.return_
    customer = ret.order.shipping_address
    if not customer:
        return fail(shipment_id, PermanentShippingError("no_address", NO_ADDRESS), raw=True)
    known: ProviderShipment | None = None
    if shipment.provider_shipment_id is None:
        request = {"customer": customer, "warehouse": warehouse_address(),
                   "parcel": parcel_for(ret), "reference": ret.rma}
        started = shipment.create_started_at
        db.session.rollback()  # no lock held while EasyPost answers
        try:
            if started is not None:  # an earlier create may have reached EasyPost
                known = client.find_by_reference(ret.rma, started - CLOCK_SKEW)
            if known is None:
                db.session.execute(update(Shipment).where(Shipment.id == shipment_id)
                                   .values(create_started_at=utcnow())
                                   .execution_options(synchronize_session=False))
                db.session.commit()  # the mark is kept before the call
                known = client.create_return_shipment(**request)
        except TransientShippingError as exc:
            raise RetryLater(str(exc)) from exc
        except PermanentShippingError as exc:
            return fail(shipment_id, exc)
        won = db.session.execute(
            update(Shipment).where(Shipment.id == shipment_id,
                                   Shipment.provider_shipment_id.is_(None))
            .values(provider_shipment_id=known.id)
            .execution_options(synchronize_session=False)).rowcount
        db.session.commit()  # the shp_ id is ours before anything is bought
        if won != 1:
            raise RetryLater(f"shipment {shipment_id} was created by another worker")
        shipment = _locked(shipment_id)
        assert shipment is not None
    previous, now = shipment.buy_started_at, utcnow()
    if previous is not None and now - previous < buy_lease():
        db.session.rollback()
        raise RetryLater(f"the label of shipment {shipment_id} is being bought elsewhere")
    provider_id = str(shipment.provider_shipment_id)
    claimed = db.session.execute(
        update(Shipment).where(Shipment.id == shipment_id,
                               Shipment.status == ShipmentStatus.LABEL_PENDING,
                               Shipment.buy_started_at.is_(None) if previous is None
                               else Shipment.buy_started_at == previous)
        .values(buy_started_at=now).execution_options(synchronize_session=False)).rowcount
    db.session.commit()  # the lease is visible before the call
    if claimed != 1:
        raise RetryLater(f"the label of shipment {shipment_id} was claimed by another worker")
    try:
        current = known if known is not None and previous is None \
            else client.retrieve(provider_id)
        if not current.bought:
            rules = current_policy().shipping
            rate = cheapest(current.rates, rules.allowed_carriers, rules.allowed_services)
            if rate is None:
                return fail(shipment_id, PermanentShippingError(
                    "no_rates", f"{len(current.rates)} rate(s), none allowed"))
            current = client.buy(provider_id, rate.id)
    except TransientShippingError as exc:
        _release_lease(shipment_id)
        raise RetryLater(str(exc)) from exc
    except PermanentShippingError as exc:
        return fail(shipment_id, exc)
    record_label(shipment_id, current)
    return copy_label(shipment_id)


def _release_lease(shipment_id: int) -> None:
    """The buy may or may not have reached EasyPost: keep the mark (the next run retrieves
    first) but let the next run go at once."""
    db.session.rollback()
    db.session.execute(update(Shipment).where(Shipment.id == shipment_id,
                                              Shipment.buy_started_at.is_not(None))
                       .values(buy_started_at=utcnow() - buy_lease() - timedelta(seconds=1)))
    db.session.commit()


def record_label(shipment_id: int, bought: ProviderShipment) -> None:
    """Write the bought label (under the return's lock), tell subscribers, commit."""
    shipment = _locked(shipment_id)
    assert shipment is not None
    ret = lock_return_by_id(shipment.return_id)
    if shipment.status not in (ShipmentStatus.LABEL_PENDING, ShipmentStatus.LABEL_FAILED,
                               ShipmentStatus.VOIDED):
        db.session.rollback()
        return
    rate = bought.selected_rate
    shipment.tracking_code = bought.tracking_code
    shipment.tracker_id = bought.tracker_id
    shipment.label_url = bought.label_url
    shipment.est_delivery_at = bought.est_delivery_at
    shipment.label_bought_at = utcnow()
    if rate is not None:
        shipment.carrier, shipment.service = rate.carrier, rate.service
        shipment.label_amount, shipment.label_currency = rate.amount, rate.currency
    if shipment.status == ShipmentStatus.VOIDED:
        # The return was cancelled while the buy was on its way: the label exists now, so
        # its money is asked back (voided_at unset: not asked yet).
        shipment.voided_at = None
        emit(VOID_TOPIC, {"shipment_id": shipment.id}, dedupe_key=f"{VOID_TOPIC}:{shipment.id}")
        db.session.commit()
        return
    fire(shipment, "label_bought")
    shipment_changed.send(shipment, return_=ret, status=shipment.status)
    db.session.commit()
    metrics.return_label("bought", shipment.carrier, cost=shipment.label_amount,
                         currency=shipment.label_currency)


def copy_label(shipment_id: int) -> str:
    """Keep our own copy of the label file (EasyPost's link is not forever), and of its QR
    code where the carrier offers one."""
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None or shipment.label_url is None:
        return "label ready"
    if shipment.label_key is None:
        data, content_type = _download(shipment.label_url)
        key = f"labels/{shipment.return_.rma}.{_extension(content_type)}"
        storage().put(key, data, content_type)
        shipment.label_key, shipment.label_content_type = key, content_type
        db.session.commit()
    return copy_qr_code(shipment_id)


def offers_qr_code(carrier: str | None) -> bool:
    wanted = str(current_app.config.get("SHIPPING_QR_CARRIERS") or "")
    return bool(carrier) and str(carrier).lower() in {
        c.strip().lower() for c in wanted.split(",") if c.strip()}


def copy_qr_code(shipment_id: int) -> str:
    """Ask EasyPost for the label's QR code (carriers in SHIPPING_QR_CARRIERS) and keep a
    copy. Asking twice returns the same form; a carrier that refuses leaves the printed
    label, noted in the log."""
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None or shipment.qr_code_key is not None \
            or shipment.status != ShipmentStatus.LABEL_READY \
            or not offers_qr_code(shipment.carrier) or shipment.provider_shipment_id is None:
        return "label ready"
    if shipment.qr_code_url is None:
        provider_id = shipment.provider_shipment_id
        db.session.rollback()
        try:
            answer = gateway().qr_code(provider_id)
        except TransientShippingError as exc:
            raise RetryLater(str(exc)) from exc
        except PermanentShippingError as exc:
            log.warning("no QR code for shipment %s: %s", shipment_id, exc.message)
            return "label ready (no QR code)"
        shipment = db.session.get(Shipment, shipment_id)
        assert shipment is not None
        shipment.qr_code_url = answer.qr_code_url
        db.session.commit()
        if shipment.qr_code_url is None:
            return "label ready (no QR code)"
    data, content_type = _download(str(shipment.qr_code_url))
    key = f"labels/{shipment.return_.rma}-qr.{_extension(content_type)}"
    storage().put(key, data, content_type)
    shipment.qr_code_key = key
    db.session.commit()
    return "label ready"


def _download(url: str) -> tuple[bytes, str]:
    try:
        return gateway().download_label(url)
    except TransientShippingError as exc:
        db.session.rollback()
        raise RetryLater(str(exc)) from exc


def _extension(content_type: str) -> str:
    return {"application/pdf": "pdf", "image/png": "png"}.get(content_type, "bin")


def fail(shipment_id: int, error: PermanentShippingError, *, raw: bool = False) -> str:
    """label_failed, with what staff can do about it in the return's staff-only trail."""
    db.session.rollback()
    shipment = _locked(shipment_id)
    if shipment is None or shipment.status != ShipmentStatus.LABEL_PENDING:
        db.session.rollback()
        return "nothing to do"
    ret = lock_return_by_id(shipment.return_id)
    shipment.failure_code, shipment.failure_message = error.code, error.message
    fire(shipment, "label_failed")
    note_for_staff(ret, f"No return label: {error.message}", EASYPOST, kind="shipping",
                   data={"code": error.code})
    shipment_changed.send(shipment, return_=ret, status=shipment.status)
    db.session.commit()
    metrics.return_label("failed")
    log.warning("return label for %s failed: %s", ret.rma, error.message)
    return "label failed"


def void_label(shipment_id: int) -> str:
    """The job of topic `shipping.void_label`: ask EasyPost for an unused label's money back
    (the return was cancelled or expired). Asking twice is harmless."""
    shipment = _locked(shipment_id)
    unused = shipment is not None and shipment.label_url is not None and (
        shipment.status == ShipmentStatus.LABEL_READY
        or (shipment.status == ShipmentStatus.VOIDED and shipment.voided_at is None))
    if shipment is None or not unused or shipment.provider_shipment_id is None:
        db.session.rollback()
        return "nothing to do"
    provider_id = shipment.provider_shipment_id
    db.session.rollback()
    try:
        answer = gateway().refund(provider_id)
    except TransientShippingError as exc:
        raise RetryLater(str(exc)) from exc
    except PermanentShippingError as exc:  # used already, or too old: staff look
        shipment = _locked(shipment_id)
        assert shipment is not None
        ret = lock_return_by_id(shipment.return_id)
        note_for_staff(ret, f"The unused label could not be voided: {exc.message}", EASYPOST,
                       kind="shipping")
        db.session.commit()
        return "void refused"
    shipment = _locked(shipment_id)
    assert shipment is not None
    if shipment.status == ShipmentStatus.LABEL_READY:
        fire(shipment, "void")
    shipment.voided_at = utcnow()  # the money was asked back
    db.session.commit()
    metrics.return_label("voided", shipment.carrier)
    return f"voided ({answer.refund_status})"
