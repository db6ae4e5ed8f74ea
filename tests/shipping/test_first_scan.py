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
