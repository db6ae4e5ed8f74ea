"""Return labels through the real easypost library, on the loopback fake: bought once on
approval, addressed as a return, the cheapest allowed rate, kept in storage; failures leave
advice for staff; an unused label is voided when the return is cancelled."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from returns_service.db import db
from returns_service.returns.models import Return, ReturnEvent
from returns_service.shipping.labels import buy_label
from returns_service.shipping.models import Shipment
from returns_service.storage import storage
from tests.conftest import Api
from tests.shipping.conftest import CUSTOMER, approve_one
from tests.support.easypost import LABEL_PDF, Error


def shipment_of(app: Any, rma: str) -> Shipment:
    with app.app_context():
        shipment = db.session.scalar(select(Shipment).join(Return).where(Return.rma == rma))
        db.session.expunge(shipment)
        return shipment


def test_approval_buys_one_return_label_addressed_as_a_return(app, approved_return,
                                                               easypost_fake) -> None:
    rma = approved_return()
    [created] = easypost_fake.creates()
    sent = created["shipment"]
    # EasyPost swaps the addresses of a return label: we send them as for the outbound parcel.
    assert sent["is_return"] is True and sent["reference"] == rma
    assert sent["to_address"]["street1"] == CUSTOMER["street1"]
    assert sent["from_address"]["street1"] == "1 Dock Road"
    assert sent["parcel"]["weight"] == 32  # two items of the 16 oz default
    assert len(easypost_fake.buys()) == 1
    shipment = shipment_of(app, rma)
    assert shipment.status == "label_ready"
    # FedEx is cheaper, but the built-in policy allows any carrier: FedEx it is.
    assert (shipment.carrier, shipment.label_amount, shipment.label_currency) == (
        "FedEx", 600, "USD")
    assert shipment.tracking_code and shipment.tracker_id
    with app.app_context():
        assert storage().get(shipment.label_key).data == LABEL_PDF


def test_the_cheapest_rate_among_the_allowed_carriers_is_bought(app_config, build_app, api,
                                                                 easypost_fake, tmp_path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[shipping]\nallowed_carriers = ["UPS", "USPS"]\n')
    app_config["RETURN_POLICY_FILE"] = str(policy)
    app = build_app()
    client = app.test_client()
    rma = approve_one(Api(client, api.tokens))
    shipment = shipment_of(app, rma)
    assert (shipment.carrier, shipment.service, shipment.label_amount) == ("USPS", "Priority", 758)


def test_running_the_job_again_buys_nothing_more(app, approved_return, easypost_fake) -> None:
    rma = approved_return()
    shipment = shipment_of(app, rma)
    with app.app_context():
        assert buy_label(shipment.id) == "nothing to do (label_ready)"
    assert len(easypost_fake.buys()) == 1


def test_a_buy_recorded_upstream_but_not_here_is_found_not_bought_again(
        app, approved_return, easypost_fake) -> None:
    """The answer to the buy was lost (a worker died): the retry retrieves by id."""
    easypost_fake.script = [Error(on="buy", status=503, code="SERVICE_UNAVAILABLE",
                                  message="try later")]
    rma = approved_return()
    shipment = shipment_of(app, rma)
    assert shipment.status == "label_pending" and shipment.provider_shipment_id
    # Upstream, the label got bought meanwhile (as if the lost call had gone through).
    upstream = easypost_fake.shipments[shipment.provider_shipment_id]
    easypost_fake._buy(upstream, upstream["rates"][0]["id"])
    with app.app_context():
        assert buy_label(shipment.id) == "label ready"
    assert len(easypost_fake.buys()) == 1  # only the refused one
    assert shipment_of(app, rma).tracking_code == upstream["tracking_code"]


def test_an_address_the_carrier_refuses_fails_the_label_with_advice_for_staff(
        app, approved_return, easypost_fake, client) -> None:
    easypost_fake.script = [Error(on="create")]
    rma = approved_return()
    shipment = shipment_of(app, rma)
    assert shipment.status == "label_failed"
    assert "Check the customer's address" in shipment.failure_message
    with app.app_context():
        notes = db.session.scalars(select(ReturnEvent.note).join(Return).where(
            Return.rma == rma, ReturnEvent.kind == "shipping")).all()
        assert notes and "No return label" in notes[0]
        assert db.session.scalar(select(Return.status).where(Return.rma == rma)) == "approved"
    assert easypost_fake.buys() == []


def test_an_order_without_address_gets_no_label_but_the_return_goes_on(
        app, approved_return, easypost_fake) -> None:
    rma = approved_return(address=None)
    shipment = shipment_of(app, rma)
    assert (shipment.status, shipment.failure_code) == ("label_failed", "no_address")
    assert easypost_fake.creates() == []


def test_cancelling_voids_the_unused_label(app, api, approved_return, easypost_fake) -> None:
    rma = approved_return()
    assert api.post(f"/api/v1/returns/{rma}/cancel", as_="agent", json={}).status_code == 200
    shipment = shipment_of(app, rma)
    assert shipment.status == "voided" and shipment.voided_at is not None
    assert easypost_fake.shipments[shipment.provider_shipment_id]["refund_status"] == "submitted"


def test_self_ship_buys_no_label(app_config, build_app, api, easypost_fake) -> None:
    app_config["SHIPPING_PROVIDER"] = "self_ship"
    app = build_app()
    rma = approve_one(Api(app.test_client(), api.tokens))
    with app.app_context():
        assert db.session.scalars(select(Shipment)).all() == []
    assert easypost_fake.calls == [] and rma


def test_staff_see_the_failed_label_advice_and_retry_it(app, approved_return, easypost_fake,
                                                        client) -> None:
    from tests.support.console import login, token

    easypost_fake.script = [Error(on="create")]
    rma = approved_return()
    login(client, "agent")
    page = client.get(f"/staff/returns/{rma}").get_data(as_text=True)
    assert "Return shipping" in page and "label failed" in page
    assert "Check the customer&#39;s address" in page
    answer = client.post(f"/staff/returns/{rma}/retry-label",
                         data={"csrf_token": token(client)})
    assert answer.status_code == 302
    shipment = shipment_of(app, rma)
    assert shipment.status == "label_ready" and shipment.failure_message is None
    assert len(easypost_fake.buys()) == 1
    page = client.get(f"/staff/returns/{rma}").get_data(as_text=True)
    assert "label ready" in page and "$6.00" in page


def test_the_incoming_list_shows_parcels_on_their_way_with_expected_dates(
        app, approved_return, client) -> None:
    from tests.support.console import login

    first, second = approved_return("A1001"), approved_return("A1002")
    login(client, "warehouse")
    page = client.get("/staff/incoming").get_data(as_text=True)
    assert first in page and second in page and "Incoming parcels" in page
    assert page.count("9 March 2026") == 2  # the carrier's estimate, from the label


def test_a_return_cancelled_while_its_label_is_being_bought_gets_the_label_voided(
        app, api, approved_return, easypost_fake) -> None:
    import threading

    from returns_service.common.errors import RetryLater
    from tests.support.easypost import HoldBuy

    easypost_fake.script = [Error(on="create", status=503, code="SERVICE_UNAVAILABLE")]
    rma = approved_return()
    shipment_id = shipment_of(app, rma).id
    hold = HoldBuy()
    easypost_fake.script = [hold]
    results: list[str] = []

    def run() -> None:
        with app.app_context():
            try:
                results.append(buy_label(shipment_id))
            except RetryLater as exc:
                results.append(f"retry: {exc}")

    job = threading.Thread(target=run)
    job.start()
    assert hold.arrived.wait(timeout=30)
    # The customer cancels while EasyPost is selling the label.
    assert api.post(f"/api/v1/returns/{rma}/cancel", as_="agent", json={}).status_code == 200
    assert shipment_of(app, rma).status == "voided"
    hold.release.set()
    job.join(timeout=30)
    shipment = shipment_of(app, rma)
    assert shipment.status == "voided" and shipment.voided_at is not None
    assert shipment.tracking_code  # what was bought is on record
    assert easypost_fake.shipments[shipment.provider_shipment_id]["refund_status"] == "submitted"


def test_a_customer_who_keeps_the_items_gets_no_label(app, build_app, easypost_fake,
                                                      tmp_path) -> None:
    from tests.conftest import RESOLUTIONS_POLICY, Api

    policy = tmp_path / "keep.toml"
    policy.write_text(RESOLUTIONS_POLICY)
    keeping = build_app(RETURN_POLICY_FILE=str(policy))  # `app` cleared the tables
    client = keeping.test_client()
    from returns_service.db import db as database
    from returns_service.staff import services as staff

    with keeping.app_context():
        tokens = {}
        for role in ("agent", "integration"):
            user = staff.create_user(f"{role}-keep@shop.test", role, "password-" + role, role)
            tokens[role] = staff.mint_token(user, "tests")
        database.session.commit()
    api = Api(client, tokens)
    rma = approve_one(api, "K1001", reason="damaged")  # a €25 shirt, damaged: kept
    shown = api.get(f"/api/v1/returns/{rma}", as_="agent").json
    assert shown["keep_item"] is True and shown["status"] == "refund_pending"
    assert easypost_fake.creates() == [] and easypost_fake.buys() == []
    with keeping.app_context():
        assert database.session.scalar(select(Shipment).join(Return)
                                       .where(Return.rma == rma)) is None
