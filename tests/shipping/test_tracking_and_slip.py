"""Tracking webhooks (signature, duplicates, out of order, forward only) and the return slip
(its barcode decoded back from the rendered PDF with pdftoppm and zbarimg)."""

from __future__ import annotations

import subprocess
from typing import Any

from sqlalchemy import select

from returns_service.db import db
from returns_service.returns.links import rma_from_token, status_token
from returns_service.returns.models import Return
from returns_service.shipping.models import CarrierEvent
from tests.conftest import Api
from tests.shipping.conftest import approve_one
from tests.shipping.test_labels import shipment_of
from tests.support.easypost import post_event, tracker_event


def test_an_unsigned_or_wrongly_signed_event_is_refused_and_stores_nothing(
        app, client, approved_return) -> None:
    rma = approved_return()
    event = tracker_event(shipment_of(app, rma).tracker_id, "in_transit")
    assert post_event(client, event, secret="not-ours").status_code == 400
    unsigned = client.post("/webhooks/easypost", json=event)
    assert unsigned.status_code == 400
    assert unsigned.mimetype == "application/problem+json"
    with app.app_context():
        assert db.session.scalars(select(CarrierEvent)).all() == []
    assert shipment_of(app, rma).status == "label_ready"


def test_tracking_moves_the_parcel_forward_only_and_once_per_event(
        app, client, approved_return) -> None:
    rma = approved_return()
    tracker = shipment_of(app, rma).tracker_id
    moving = tracker_event(tracker, "in_transit")
    assert post_event(client, moving).json["result"] == "queued"
    assert shipment_of(app, rma).status == "in_transit"
    assert post_event(client, moving).json["result"] == "duplicate"
    assert post_event(client, tracker_event(tracker, "delivered")).status_code == 200
    # Late and out of order: an older scan changes nothing.
    assert post_event(client, tracker_event(tracker, "in_transit")).status_code == 200
    shipment = shipment_of(app, rma)
    assert shipment.status == "delivered" and shipment.delivered_at is not None
    assert shipment.first_scan_at is not None
    with app.app_context():
        results = db.session.scalars(select(CarrierEvent.result).order_by(CarrierEvent.id)).all()
    assert results == ["in_transit", "delivered", "unchanged (delivered)"]


def test_the_customer_sees_the_parcel_on_its_way(app, client, approved_return) -> None:
    rma = approved_return()
    post_event(client, tracker_event(shipment_of(app, rma).tracker_id, "in_transit"))
    with app.test_request_context():
        token = status_token(rma)
    page = client.get(f"/returns/status/{token}").get_data(as_text=True)
    assert "Your parcel is on its way to us" in page


def test_webhooks_answer_503_until_the_secret_is_set(app_config, build_app) -> None:
    app_config["EASYPOST_WEBHOOK_SECRET"] = None
    answer = build_app().test_client().post("/webhooks/easypost", data=b"{}")
    assert answer.status_code == 503


def decoded(pdf: bytes, tmp_path: Any) -> list[str]:
    (tmp_path / "slip.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(tmp_path / "slip.pdf"),
                    str(tmp_path / "page")], check=True)
    found = subprocess.run(["zbarimg", "-q", *sorted(str(p) for p in tmp_path.glob("page*.png"))],
                           capture_output=True, text=True, check=False)
    return found.stdout.split()


def test_the_slip_barcode_reads_back_as_the_rma_and_its_qr_as_the_status_link(
        app, client, approved_return, tmp_path) -> None:
    rma = approved_return()
    with app.test_request_context():
        token = status_token(rma)
    page = client.get(f"/returns/status/{token}").get_data(as_text=True)
    assert "Download your return slip (PDF)" in page
    assert "Download your prepaid return label" in page
    answer = client.get(f"/returns/status/{token}/slip.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    codes = decoded(answer.data, tmp_path)
    assert f"CODE-128:{rma}" in codes
    # The QR code is this return's status link. Its token is signed with a timestamp, so
    # it is read back rather than compared with one made a second apart.
    links = [c.removeprefix("QR-Code:") for c in codes if c.startswith("QR-Code:")]
    assert len(links) == 1 and links[0].startswith("http://returns.test/returns/status/")
    with app.test_request_context():
        assert rma_from_token(links[0].rsplit("/", 1)[1]) == rma
    label = client.get(f"/returns/status/{token}/label")
    assert label.status_code == 200 and label.data.startswith(b"%PDF")


def test_a_return_that_needs_no_parcel_has_no_slip(app, api, client, make_return) -> None:
    rma = make_return()["rma"]  # requested, not approved yet
    with app.test_request_context():
        token = status_token(rma)
    assert client.get(f"/returns/status/{token}/slip.pdf").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Return.status).where(Return.rma == rma)) == "requested"


def test_the_return_shipping_fee_is_shown_at_review_and_deducted(
        app_config, build_app, api, tmp_path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[shipping]\nreturn_fee = { EUR = 495 }\n')
    app_config.update(RETURN_POLICY_FILE=str(policy), SHIPPING_PROVIDER="self_ship")
    app = build_app()
    client = app.test_client()
    customer_fault = approve_one(Api(client, api.tokens), "A1001")
    merchant_fault = approve_one(Api(client, api.tokens), "A1002", reason="damaged")
    with app.test_request_context():
        tokens = status_token(customer_fault), status_token(merchant_fault)
    page = client.get(f"/returns/status/{tokens[0]}").get_data(as_text=True)
    assert "Return shipping" in page and "€45.05" in page  # 2 x €25.00 less €4.95
    page = client.get(f"/returns/status/{tokens[1]}").get_data(as_text=True)
    assert "Return shipping" not in page


def test_a_parcel_whose_tracking_stops_moving_flags_its_return_once(
        app, client, approved_return, frozen_now) -> None:
    from datetime import timedelta

    from returns_service.common import clock
    from returns_service.scheduler.schedule import tick

    rma = approved_return()
    post_event(client, tracker_event(shipment_of(app, rma).tracker_id, "in_transit"))
    assert tick(app, frozen_now + timedelta(days=6))["stalled_parcels"] == 0
    clock.freeze(frozen_now + timedelta(days=8))
    assert tick(app, frozen_now + timedelta(days=8))["stalled_parcels"] == 1
    assert tick(app, frozen_now + timedelta(days=9))["stalled_parcels"] == 0
    with app.app_context():
        ret = db.session.scalar(select(Return).where(Return.rma == rma))
        assert ret.needs_review and "has not moved for 7 days" in ret.review_reason


def test_label_spend_and_webhooks_are_counted_on_the_metrics_page(app, client,
                                                                   approved_return) -> None:
    rma = approved_return()
    post_event(client, tracker_event(shipment_of(app, rma).tracker_id, "in_transit"))
    text = client.get("/metrics").get_data(as_text=True)
    assert 'returns_shipping_label_spend_total{carrier="FedEx",currency="USD"} 600.0' in text
    assert 'returns_shipping_labels_total{carrier="FedEx",outcome="bought"} 1.0' in text
    assert 'returns_webhook_events_total{result="queued",type="easypost.tracker.updated"} 1.0' \
        in text
