"""A create whose answer was lost is found by reference (the RMA), never created twice; lost
tracker webhooks are made up for by asking for the tracker on a schedule (forward only);
parcels weigh what their order lines say; USPS labels come with a QR code."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from returns_service.common import clock
from returns_service.db import db
from returns_service.scheduler.schedule import tick
from returns_service.shipping.labels import buy_label
from returns_service.shipping.models import Shipment
from returns_service.storage import storage
from tests.conftest import Api, order_payload
from tests.shipping.conftest import CUSTOMER, approve_one
from tests.shipping.test_labels import shipment_of
from tests.support.easypost import QR_PNG, Error, post_event, tracker_event

# --- found by reference --------------------------------------------------------------------


def test_a_create_whose_answer_was_lost_is_found_by_reference_not_made_twice(
        app, approved_return, easypost_fake) -> None:
    easypost_fake.script = [Error(on="create", status=503, code="SERVICE_UNAVAILABLE",
                                  message="try later", after_create=True)]
    rma = approved_return()
    shipment = shipment_of(app, rma)
    # EasyPost made the shipment, we never heard its id: the job will run again.
    assert shipment.status == "label_pending" and shipment.provider_shipment_id is None
    assert shipment.create_started_at is not None and len(easypost_fake.shipments) == 1
    with app.app_context():
        assert buy_label(shipment.id) == "label ready"
    [upstream] = easypost_fake.shipments.values()
    assert upstream["reference"] == rma and len(easypost_fake.creates()) == 1
    assert len(easypost_fake.buys()) == 1
    shipment = shipment_of(app, rma)
    assert shipment.status == "label_ready" and shipment.provider_shipment_id == upstream["id"]


def test_other_returns_shipments_are_not_taken_for_this_one(app, api, easypost_fake) -> None:
    """Listing returns every shipment of the period: only this RMA's return shipment counts."""
    first = approve_one(api, "A1001")
    easypost_fake.script = [Error(on="create", status=503, code="SERVICE_UNAVAILABLE",
                                  message="try later")]  # nothing made this time
    second = approve_one(api, "A1002")
    shipment = shipment_of(app, second)
    assert shipment.create_started_at is not None and shipment.provider_shipment_id is None
    with app.app_context():
        assert buy_label(shipment.id) == "label ready"
    assert len(easypost_fake.creates()) == 3  # one failed, then one of its own
    ids = {shipment_of(app, rma).provider_shipment_id for rma in (first, second)}
    assert len(ids) == 2 and len(easypost_fake.buys()) == 2


# --- tracker polling -----------------------------------------------------------------------


def tracker_calls(fake: Any) -> list[str]:
    return [path for method, path, _ in fake.calls if path.startswith("/v2/trackers/")]


def test_a_lost_webhook_is_made_up_for_by_asking_for_the_tracker(
        app, client, approved_return, easypost_fake, frozen_now) -> None:
    rma = approved_return()
    tracker = shipment_of(app, rma).tracker_id
    easypost_fake.tracker_moves(tracker, "in_transit")  # scanned; the webhook never came
    assert tick(app, frozen_now + timedelta(hours=6))["trackers_polled"] == 0  # not yet
    assert tracker_calls(easypost_fake) == []
    later = frozen_now + timedelta(hours=13)
    clock.freeze(later)
    assert tick(app, later)["trackers_polled"] == 1
    shipment = shipment_of(app, rma)
    # Dated when the carrier scanned it, not when we asked.
    assert shipment.status == "in_transit" and shipment.first_scan_at == frozen_now
    # Asked once per interval at most.
    assert tick(app, later + timedelta(hours=1))["trackers_polled"] == 0
    assert len(tracker_calls(easypost_fake)) == 1
    clock.freeze(later + timedelta(hours=2))
    easypost_fake.tracker_moves(tracker, "delivered")
    clock.freeze(later + timedelta(hours=13))
    assert tick(app, later + timedelta(hours=13))["trackers_polled"] == 1
    shipment = shipment_of(app, rma)
    assert shipment.status == "delivered"
    assert shipment.delivered_at == later + timedelta(hours=2)
    # Delivered: nothing more to ask.
    assert tick(app, later + timedelta(days=3))["trackers_polled"] == 0
    assert len(tracker_calls(easypost_fake)) == 2
    # The webhook arriving late changes nothing either.
    post_event(client, tracker_event(tracker, "in_transit"))
    assert shipment_of(app, rma).status == "delivered"


def test_a_tracker_that_lags_behind_never_moves_a_shipment_back(
        app, client, approved_return, easypost_fake, frozen_now) -> None:
    rma = approved_return()
    tracker = shipment_of(app, rma).tracker_id
    post_event(client, tracker_event(tracker, "in_transit"))
    # EasyPost's copy still says pre_transit (as of the label's purchase).
    assert tick(app, frozen_now + timedelta(hours=13))["trackers_polled"] == 0
    assert len(tracker_calls(easypost_fake)) == 1
    shipment = shipment_of(app, rma)
    assert shipment.status == "in_transit" and shipment.last_tracking_at == frozen_now
    # A tracker that has not moved still counts as stalled.
    clock.freeze(frozen_now + timedelta(days=8))
    assert tick(app, frozen_now + timedelta(days=8))["stalled_parcels"] == 1


def test_no_polling_without_easypost(app_config, build_app) -> None:
    app_config["SHIPPING_PROVIDER"] = "self_ship"
    app = build_app()
    assert tick(app)["trackers_polled"] == 0


# --- parcels -------------------------------------------------------------------------------


def test_the_parcel_weighs_and_measures_what_the_order_lines_say(app, api,
                                                                 easypost_fake) -> None:
    payload = order_payload("A1001")
    payload["shipping_address"] = CUSTOMER
    payload["lines"][0].update(weight_oz=10, length_in=14, width_in=10, height_in=3)
    assert api.post("/api/v1/orders", as_="integration", json=payload).status_code == 201
    rma = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 2, "reason": "doesnt_fit"}]}).json["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    [created] = easypost_fake.creates()
    # Two shirts of 10 oz, 14 x 10 in, stacked 3 in each.
    assert created["shipment"]["parcel"] == {"length": 14, "width": 10, "height": 6,
                                             "weight": 20}


def test_the_catalog_gives_the_weight_and_size_the_order_line_does_not(app, api,
                                                                       easypost_fake) -> None:
    variant = {"sku": "SHIRT", "title": "Shirt", "prices": {"EUR": 2500}, "on_hand": 5,
               "weight_oz": 12, "length_in": 13, "width_in": 11, "height_in": 2}
    answer = api.call("PUT", "/api/v1/products/shirt", as_="integration",
                      json={"title": "Shirt", "variants": [variant]})
    assert answer.status_code in (200, 201), answer.json
    assert answer.json["variants"][0]["weight_oz"] == 12
    approve_one(api)
    [created] = easypost_fake.creates()
    assert created["shipment"]["parcel"] == {"length": 13, "width": 11, "height": 4,
                                             "weight": 24}


def test_the_order_line_wins_over_the_catalog(app, api, easypost_fake) -> None:
    variant = {"sku": "SHIRT", "title": "Shirt", "prices": {"EUR": 2500}, "on_hand": 5,
               "weight_oz": 12}
    assert api.call("PUT", "/api/v1/products/shirt", as_="integration", json={
        "title": "Shirt", "variants": [variant]}).status_code in (200, 201)
    payload = order_payload("A1001")
    payload["shipping_address"] = CUSTOMER
    payload["lines"][0]["weight_oz"] = 7
    assert api.post("/api/v1/orders", as_="integration", json=payload).status_code == 201
    rma = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 2, "reason": "doesnt_fit"}]}).json["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    [created] = easypost_fake.creates()
    # 7 oz from the line; no size anywhere: the default box.
    assert created["shipment"]["parcel"] == {"length": 12, "width": 9, "height": 4,
                                             "weight": 14}


def test_a_bad_weight_is_refused_with_a_message(api) -> None:
    payload = order_payload("A1001")
    payload["lines"][0]["weight_oz"] = 0
    answer = api.post("/api/v1/orders", as_="integration", json=payload)
    assert answer.status_code == 422 and "weight_oz" in str(answer.json)


# --- QR codes ------------------------------------------------------------------------------


def usps_app(app_config: dict[str, Any], build_app: Any, tmp_path: Any) -> Any:
    policy = tmp_path / "policy.toml"
    policy.write_text('[shipping]\nallowed_carriers = ["USPS"]\n')
    app_config["RETURN_POLICY_FILE"] = str(policy)
    return build_app()


def test_a_usps_label_comes_with_its_qr_code(app_config, build_app, api, easypost_fake,
                                             tmp_path) -> None:
    app = usps_app(app_config, build_app, tmp_path)
    rma = approve_one(Api(app.test_client(), api.tokens))
    shipment = shipment_of(app, rma)
    assert shipment.carrier == "USPS" and shipment.qr_code_url
    with app.app_context():
        assert storage().get(shipment.qr_code_key).data == QR_PNG
        assert buy_label(shipment.id) == "nothing to do (label_ready)"
    forms = [path for _, path, _ in easypost_fake.calls if path.endswith("/forms")]
    assert len(forms) == 1


def test_carriers_without_qr_codes_are_not_asked(app, approved_return, easypost_fake) -> None:
    rma = approved_return()  # FedEx, the cheapest of any carrier
    assert shipment_of(app, rma).qr_code_key is None
    assert not [path for _, path, _ in easypost_fake.calls if path.endswith("/forms")]


def test_a_qr_code_refused_leaves_the_printed_label(app_config, build_app, api, easypost_fake,
                                                    tmp_path) -> None:
    app_config["SHIPPING_QR_CARRIERS"] = "USPS,FedEx"
    app = build_app()
    rma = approve_one(Api(app.test_client(), api.tokens))  # FedEx: the fake has no QR
    shipment = shipment_of(app, rma)
    assert shipment.status == "label_ready" and shipment.label_key
    assert shipment.qr_code_key is None
    with app.app_context():
        assert db.session.get(Shipment, shipment.id).qr_code_url is None
