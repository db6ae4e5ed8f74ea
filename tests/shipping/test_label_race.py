"""Two label jobs at once on PostgreSQL: while one waits on EasyPost's buy, the other backs
off (the committed lease) and buys nothing; run again later, it finds the label bought. Two
tracker polls at once ask EasyPost once (the claim is committed before the call)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from returns_service.common.errors import RetryLater
from returns_service.shipping.labels import buy_label
from tests.shipping.test_labels import shipment_of
from tests.support.easypost import Error, HoldBuy

pytestmark = pytest.mark.postgres


def test_a_second_job_during_the_buy_backs_off_and_buys_nothing(app, approved_return,
                                                                easypost_fake) -> None:
    # The first run at approval meets EasyPost down: the shipment waits, label_pending.
    easypost_fake.script = [Error(on="create", status=503, code="SERVICE_UNAVAILABLE")]
    rma = approved_return()
    shipment_id = shipment_of(app, rma).id
    hold = HoldBuy()
    easypost_fake.script = [hold]
    results: dict[str, Any] = {}

    def run(name: str) -> None:
        with app.app_context():
            try:
                results[name] = buy_label(shipment_id)
            except RetryLater as exc:
                results[name] = f"retry: {exc}"

    first = threading.Thread(target=run, args=("first",))
    first.start()
    assert hold.arrived.wait(timeout=30)
    run("second")  # while the first one's buy is held at EasyPost
    hold.release.set()
    first.join(timeout=30)
    assert results["first"] == "label ready"
    assert results["second"].startswith("retry:") and "being bought" in results["second"]
    run("third")
    assert results["third"] == "nothing to do (label_ready)"
    assert len(easypost_fake.buys()) == 1
    assert shipment_of(app, rma).status == "label_ready"


def test_two_schedulers_polling_at_once_ask_for_a_tracker_once(app, approved_return,
                                                               easypost_fake,
                                                               frozen_now) -> None:
    from datetime import timedelta

    from returns_service.common import clock
    from returns_service.shipping.tracking import poll_trackers

    rma = approved_return()
    easypost_fake.tracker_moves(shipment_of(app, rma).tracker_id, "in_transit")
    later = frozen_now + timedelta(hours=13)
    clock.freeze(later)
    start = threading.Barrier(2)
    moved: list[int] = []

    def poll() -> None:
        with app.app_context():
            start.wait(timeout=30)
            moved.append(poll_trackers(later))

    threads = [threading.Thread(target=poll) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(moved) == [0, 1]
    assert len([p for _, p, _ in easypost_fake.calls if p.startswith("/v2/trackers/")]) == 1
    shipment = shipment_of(app, rma)
    assert shipment.status == "in_transit" and shipment.polled_at == later
