"""The shipment in the JSON API (its links only for the roles that may hold the customer's
link) and the `shipment.*` outbound webhook events, received by a real HTTP receiver."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, order_payload
from tests.integrations.conftest import register
from tests.shipping.test_labels import shipment_of
from tests.support.easypost import post_event, tracker_event


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = True
    return app_config


def test_a_return_shows_its_shipment_with_links_for_agents(app, api, approved_return) -> None:
    rma = approved_return()
    tracking = shipment_of(app, rma).tracking_code
    shown = api.get(f"/api/v1/returns/{rma}", as_="agent").json["shipment"]
    assert shown["provider"] == "easypost" and shown["status"] == "label_ready"
    assert (shown["carrier"], shown["tracking_number"]) == ("FedEx", tracking)
    assert shown["tracking_url"] == f"https://www.fedex.com/fedextrack/?trknbr={tracking}"
    assert shown["label_url"].endswith("/label") and shown["slip_url"].endswith("/slip.pdf")
    assert shown["qr_code_url"] is None  # FedEx: no QR code
    # The links open the customer's downloads.
    path = shown["label_url"].split("://", 1)[1].split("/", 1)[1]
    assert api.client.get("/" + path).status_code == 200


def test_the_warehouse_sees_tracking_but_not_the_customer_links(app, api,
                                                                approved_return) -> None:
    rma = approved_return()
    shown = api.get(f"/api/v1/returns/{rma}", as_="warehouse").json["shipment"]
    assert shown["tracking_number"] and shown["status"] == "label_ready"
    assert (shown["label_url"], shown["slip_url"]) == (None, None)


def test_tracking_moves_the_shipment_the_api_shows(app, api, client, approved_return) -> None:
    rma = approved_return()
    post_event(client, tracker_event(shipment_of(app, rma).tracker_id, "in_transit"))
    shown = api.get(f"/api/v1/returns/{rma}", as_="agent").json["shipment"]
    assert shown["status"] == "in_transit" and shown["first_scan_at"]
    assert shown["label_url"] is None  # in the carrier's hands: nothing to print any more


def test_a_self_ship_return_shows_its_slip(build_app, api) -> None:
    own = Api(build_app(SHIPPING_PROVIDER="self_ship").test_client(), api.tokens)
    assert own.post("/api/v1/orders", as_="integration",
                    json=order_payload("A1001")).status_code == 201
    rma = own.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]}).json["rma"]
    assert own.get(f"/api/v1/returns/{rma}", as_="agent").json["shipment"] is None
    answer = own.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).json
    assert answer["shipment"]["provider"] == "self_ship"
    assert answer["shipment"]["status"] is None and answer["shipment"]["slip_url"]


def test_the_openapi_document_describes_the_shipment(api) -> None:
    spec = api.get("/api/v1/openapi.json").json
    schemas = spec["components"]["schemas"]
    assert "shipment" in schemas["ReturnOut"]["properties"]
    assert {"tracking_number", "tracking_url", "label_url", "slip_url", "qr_code_url"} <= set(
        schemas["ShipmentOut"]["properties"])


def test_shipment_events_reach_the_receiver(app, api, client, receiver) -> None:
    from tests.shipping.conftest import approve_one

    register(api, receiver, ["shipment.label_ready", "shipment.in_transit",
                             "shipment.delivered"])
    rma = approve_one(api)
    tracker = shipment_of(app, rma).tracker_id
    post_event(client, tracker_event(tracker, "in_transit"))
    post_event(client, tracker_event(tracker, "in_transit"))  # repeated: no second event
    post_event(client, tracker_event(tracker, "delivered"))
    accepted = [r.payload for r in receiver.accepted()]
    assert [p["type"] for p in accepted] == [
        "shipment.label_ready", "shipment.in_transit", "shipment.delivered"]
    ready = accepted[0]["data"]
    assert ready["return"]["rma"] == rma
    assert ready["shipment"]["carrier"] == "FedEx" and ready["shipment"]["label_cost"] == 600
    assert ready["shipment"]["label_currency"] == "USD"
    assert accepted[2]["data"]["shipment"]["status"] == "delivered"
    assert accepted[2]["data"]["shipment"]["delivered_at"]


def test_the_shipment_answered_is_what_the_documented_schema_dumps(app, api, client,
                                                                    approved_return) -> None:
    from returns_service.returns.schemas import ShipmentOut
    from returns_service.returns.services import get_return
    from returns_service.shipping.services import shipment_json

    rma = approved_return()
    post_event(client, tracker_event(shipment_of(app, rma).tracker_id, "in_transit"))
    answered = api.get(f"/api/v1/returns/{rma}", as_="agent").json["shipment"]
    with app.test_request_context():
        shown = shipment_json(get_return(rma), links=True)
        assert ShipmentOut().dump(shown) == shown == answered
