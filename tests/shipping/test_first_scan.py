"""Refund on first scan: for reasons the policy trusts, the carrier's first scan starts the
refund (approved -> refund_pending), priced as the estimate, once; other returns wait for
the warehouse."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from returns_service.db import db
from returns_service.refunds.models import Refund
from returns_service.returns.models import Return
from tests.shipping.test_labels import shipment_of
from tests.support.easypost import post_event, tracker_event


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    policy = tmp_path / "policy.toml"
    policy.write_text('[shipping]\nrefund_on_first_scan = ["damaged"]\n'
                      'return_fee = { EUR = 495 }\n')
    app_config["RETURN_POLICY_FILE"] = str(policy)
    return app_config


def state(app: Any, rma: str) -> tuple[str, int | None, list[tuple[int, str]]]:
    with app.app_context():
        ret = db.session.scalar(select(Return).where(Return.rma == rma))
        refunds = db.session.execute(select(Refund.amount, Refund.status)
                                     .where(Refund.return_id == ret.id)).all()
        return ret.status, ret.refund_amount, [tuple(r) for r in refunds]


def test_the_first_scan_starts_the_refund_of_a_trusted_return_once(app, client,
                                                                   approved_return) -> None:
    rma = approved_return(reason="damaged")
    tracker = shipment_of(app, rma).tracker_id
    post_event(client, tracker_event(tracker, "in_transit"))
    # Two shirts at 25.00, merchant fault: the order's shipping (5.00) too, no return fee.
    assert state(app, rma) == ("refund_pending", 5500, [(5500, "pending")])
    post_event(client, tracker_event(tracker, "out_for_delivery"))
    post_event(client, tracker_event(tracker, "delivered"))
    assert state(app, rma) == ("refund_pending", 5500, [(5500, "pending")])


def test_other_returns_wait_for_the_warehouse(app, client, approved_return) -> None:
    rma = approved_return(reason="doesnt_fit")
    post_event(client, tracker_event(shipment_of(app, rma).tracker_id, "in_transit"))
    assert state(app, rma) == ("approved", None, [])
    assert shipment_of(app, rma).status == "in_transit"


def check(app: Any, client: Any, rma: str, quantity: int, condition: str) -> Any:
    from tests.support.console import state, token

    return client.post(f"/staff/receiving/{rma}", data={
        "csrf_token": token(client), "expected_version": str(state(app, rma)[1]),
        "items-0-sku": "SHIRT", "items-0-quantity": str(quantity),
        "items-0-condition": condition, "items-0-restock": "yes", "note": ""},
        follow_redirects=True)


def test_the_warehouse_then_records_the_check_and_a_mismatch_is_flagged(
        app, client, approved_return) -> None:
    from tests.support.console import login

    matching, short = approved_return("A1001", reason="damaged"), \
        approved_return("A1002", reason="damaged")
    for rma in (matching, short):
        post_event(client, tracker_event(shipment_of(app, rma).tracker_id, "in_transit"))
    login(client, "warehouse")
    scanned = client.get(f"/staff/receiving?rma={short}")
    assert scanned.status_code == 302 and scanned.location.endswith(f"/receiving/{short}")
    assert "Record the check" in client.get(scanned.location).get_data(as_text=True)
    page = check(app, client, short, 1, "resellable").get_data(as_text=True)
    assert "It does not match: flagged for review." in page
    page = check(app, client, matching, 2, "resellable").get_data(as_text=True)
    assert f"Checked {matching}" in page and "flagged" not in page
    with app.app_context():
        rows = {r.rma: r for r in db.session.scalars(select(Return))}
        assert (rows[short].status, rows[short].needs_review) == ("refund_pending", True)
        assert "SHIRT: 1 of 2, resellable" in rows[short].review_reason
        assert (rows[matching].status, rows[matching].needs_review) == ("refund_pending", False)
        assert [(i.received_quantity, i.condition, i.restock)
                for i in rows[matching].items] == [(2, "resellable", True)]
    # Checked once: the page now refuses, as for any return not waiting for its parcel.
    assert client.get(f"/staff/receiving?rma={matching}").status_code == 409
