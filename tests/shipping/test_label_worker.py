"""A worker SIGKILLed between EasyPost's buy and our record of it: the next worker finds the
label by the shipment id committed before the buy, and buys nothing more (counted at the
loopback EasyPost fake, which would sell a second label if asked to buy again)."""

from __future__ import annotations

from typing import Any

import pytest

from returns_service.outbox.relay import relay_pending
from tests.conftest import TEST_REDIS_URL
from tests.shipping.test_labels import shipment_of
from tests.support.easypost import API_KEY, HoldBuy, HoldCreate
from tests.support.workers import kill_hard, process_tree, start_worker


@pytest.mark.redis
@pytest.mark.postgres
class TestWorkerKilledMidBuy:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any], queue_name: str) -> dict[str, Any]:
        app_config.update(REDIS_URL=TEST_REDIS_URL, RQ_QUEUE=queue_name)
        return app_config

    def test_killed_worker_is_retried_and_buys_once(self, app, app_config, approved_return,
                                                    easypost_fake, queue_name, tmp_path):
        hold = HoldBuy()
        easypost_fake.script = [hold]
        env = {"SHIPPING_PROVIDER": "easypost", "EASYPOST_API_KEY": API_KEY,
               "EASYPOST_API_BASE": easypost_fake.url,
               "STORAGE_LOCAL_DIR": app_config["STORAGE_LOCAL_DIR"],
               "WAREHOUSE_STREET1": "1 Dock Road", "WAREHOUSE_CITY": "Reno",
               "WAREHOUSE_ZIP": "89501"}
        rma = approved_return()  # committed; the label job waits in Redis
        assert shipment_of(app, rma).status == "label_pending"
        worker = start_worker(app_config, "", queue_name, burst=False,
                              log=tmp_path / "worker1.log", **env)
        try:
            assert hold.arrived.wait(timeout=60), (tmp_path / "worker1.log").read_text()
            assert len(easypost_fake.buys()) == 1  # bought at EasyPost, the answer held
            assert process_tree(worker.pid)[1:], "the job should be running in a work horse"
            assert kill_hard(worker) == []
        finally:
            if worker.poll() is None:
                kill_hard(worker)
            hold.release.set()
        shipment = shipment_of(app, rma)
        assert shipment.status == "label_pending" and shipment.provider_shipment_id

        assert relay_pending(app, stale_after_seconds=0) >= 1
        again = start_worker(app_config, "", queue_name, burst=True,
                             log=tmp_path / "worker2.log", SHIPPING_BUY_LEASE_SECONDS="0",
                             **env)
        assert again.wait(timeout=60) == 0, (tmp_path / "worker2.log").read_text()
        assert len(easypost_fake.buys()) == 1
        assert len(easypost_fake.creates()) == 1
        shipment = shipment_of(app, rma)
        assert shipment.status == "label_ready" and shipment.label_key
        upstream = easypost_fake.shipments[shipment.provider_shipment_id]
        assert shipment.tracking_code == upstream["tracking_code"]


@pytest.mark.redis
@pytest.mark.postgres
class TestWorkerKilledMidCreate:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any], queue_name: str) -> dict[str, Any]:
        app_config.update(REDIS_URL=TEST_REDIS_URL, RQ_QUEUE=queue_name)
        return app_config

    def test_killed_worker_is_retried_and_finds_the_shipment_by_reference(
            self, app, app_config, approved_return, easypost_fake, queue_name, tmp_path):
        """Killed after EasyPost made the shipment but before its id was recorded: the next
        worker lists it by the RMA, and neither creates nor buys a second one."""
        hold = HoldCreate()
        easypost_fake.script = [hold]
        env = {"SHIPPING_PROVIDER": "easypost", "EASYPOST_API_KEY": API_KEY,
               "EASYPOST_API_BASE": easypost_fake.url,
               "STORAGE_LOCAL_DIR": app_config["STORAGE_LOCAL_DIR"],
               "WAREHOUSE_STREET1": "1 Dock Road", "WAREHOUSE_CITY": "Reno",
               "WAREHOUSE_ZIP": "89501"}
        rma = approved_return()
        worker = start_worker(app_config, "", queue_name, burst=False,
                              log=tmp_path / "worker1.log", **env)
        try:
            assert hold.arrived.wait(timeout=60), (tmp_path / "worker1.log").read_text()
            assert len(easypost_fake.shipments) == 1  # made at EasyPost, the answer held
            assert process_tree(worker.pid)[1:], "the job should be running in a work horse"
            assert kill_hard(worker) == []
        finally:
            if worker.poll() is None:
                kill_hard(worker)
            hold.release.set()
        shipment = shipment_of(app, rma)
        assert shipment.provider_shipment_id is None and shipment.create_started_at

        assert relay_pending(app, stale_after_seconds=0) >= 1
        again = start_worker(app_config, "", queue_name, burst=True,
                             log=tmp_path / "worker2.log", **env)
        assert again.wait(timeout=60) == 0, (tmp_path / "worker2.log").read_text()
        assert len(easypost_fake.creates()) == 1 and len(easypost_fake.buys()) == 1
        [upstream] = easypost_fake.shipments.values()
        shipment = shipment_of(app, rma)
        assert shipment.status == "label_ready"
        assert shipment.provider_shipment_id == upstream["id"]
        assert shipment.tracking_code == upstream["tracking_code"]
