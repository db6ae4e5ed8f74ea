"""PERSONAL_DATA_RETENTION_DAYS: the scheduler anonymises returns closed longer ago than that
(and their orders once every return of the order is), in batches, once each, auditing it,
holding back what is still needed, and every report keeps its figures."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from returns_service.common import clock
from returns_service.db import db
from returns_service.orders.models import Order
from returns_service.privacy.models import ErasureRecord
from returns_service.returns import personal_data
from returns_service.returns.models import Return, ReturnEvent
from returns_service.scheduler.schedule import tick
from returns_service.storage import FileNotStored, storage
from tests.privacy.customer import EMAIL, LABEL_KEY, seed_customer, where_found
from tests.reports.history import NOW, policy_file

TWO_WEEKS = {"from": "2026-03-02", "to": "2026-03-16"}
LATER = NOW + timedelta(days=31)  # R1 (refunded), R3 (rejected), R4 (cancelled) are due


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    app_config["RETURN_POLICY_FILE"] = policy_file(tmp_path)
    app_config["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = True
    app_config["STORAGE_LOCAL_DIR"] = str(tmp_path / "files")
    app_config["PERSONAL_DATA_RETENTION_DAYS"] = 30
    return app_config


@pytest.fixture
def jane(app: Any, api: Any, make_order: Any) -> dict[str, str]:
    return seed_customer(app, api, make_order)


def read_report(api: Any) -> dict[str, Any]:
    """The service report as read at one fixed instant (its backlog is as of then)."""
    now = clock.utcnow()
    clock.freeze(LATER + timedelta(days=10))
    try:
        return api.get("/api/v1/reports/service", as_="agent", query=TWO_WEEKS).json
    finally:
        clock.freeze(now)


def erased(app: Any) -> dict[str, bool]:
    """Which orders and returns are anonymised, by order number and RMA."""
    with app.app_context():
        rows = db.session.execute(select(Order.number, Order.personal_data_erased_at)).all()
        rets = db.session.execute(select(Return.rma, Return.personal_data_erased_at)).all()
    return {key: at is not None for key, at in [*rows, *rets]}


def privacy_events(app: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ReturnEvent)
                                 .where(ReturnEvent.kind == "privacy"))


def test_nothing_is_anonymised_without_the_setting(app: Any, build_app: Any,
                                                   jane: dict[str, str]) -> None:
    keep = build_app(PERSONAL_DATA_RETENTION_DAYS=0)
    clock.freeze(LATER + timedelta(days=3650))
    assert tick(keep)["personal_data_erased"] == 0
    assert not any(erased(app).values())


def test_closed_returns_past_retention_are_anonymised_once_and_reports_do_not_change(
        app: Any, api: Any, jane: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    report = read_report(api)
    monkeypatch.setattr(personal_data, "BATCH", 1)  # one return per transaction
    clock.freeze(NOW + timedelta(days=20))
    assert tick(app)["personal_data_erased"] == 0  # closed 26 to 27 days ago: not yet

    clock.freeze(LATER)
    # R4's store credit is unspent: R4 waits; R1 and R3 go, with their orders.
    assert tick(app)["personal_data_erased"] == 2
    state = erased(app)
    assert {k for k, v in state.items() if v} == {jane["R1"], jane["R3"], "A1001", "A1003"}
    with app.app_context():
        left = where_found()
        with pytest.raises(FileNotStored):
            storage().get(LABEL_KEY)  # R1's label
        r1 = db.session.scalar(select(Return).where(Return.rma == jane["R1"]))
        assert (r1.status, r1.refund_amount, r1.rejection_reason) == ("refunded", 2500, None)
        records = db.session.scalars(select(ErasureRecord)).all()
        assert [(r.reason, r.actor_type, r.returns) for r in records] == [
            ("retention", "system", 1), ("retention", "system", 1)]
    # Open returns keep her data: R2's order, R2's webhook events, R4's credit code.
    assert {"orders.email", "credit_codes.email", "webhook_deliveries.payload",
            "notifications.to_email"} <= left
    assert {"sms_phones.phone", "sms_messages.to_phone", "conversation_messages.body",
            "feedback.comment"}.isdisjoint(left)  # R1's and R3's
    assert read_report(api) == report

    assert tick(app)["personal_data_erased"] == 0  # a second pass: nothing left to do
    assert privacy_events(app) == 2

    spent = api.post(f"/api/v1/credits/{jane['credit']}/redemptions", as_="integration",
                     headers={"Idempotency-Key": "spend"},
                     json={"amount": 1000, "currency": "EUR", "order_reference": "W2"})
    assert spent.status_code == 201
    report = read_report(api)  # outstanding credit is down by what was spent
    clock.freeze(LATER + timedelta(hours=1))
    assert tick(app)["personal_data_erased"] == 1  # R4, now its credit is spent
    assert erased(app)[jane["R4"]] and erased(app)["A1004"]
    assert not erased(app)[jane["R2"]] and not erased(app)["A1002"]
    assert read_report(api) == report


@pytest.mark.postgres
def test_two_scheduler_passes_at_once_anonymise_each_return_once(
        app: Any, api: Any, jane: dict[str, str]) -> None:
    for key in ("R2", "R5", "R6"):
        assert api.post(f"/api/v1/returns/{jane[key]}/cancel", as_="agent",
                        json={}).status_code == 200
    clock.freeze(LATER)
    start, results = threading.Barrier(4), []

    def one_pass() -> None:
        with app.app_context():
            start.wait()
            results.append(personal_data.anonymise_due(LATER))

    threads = [threading.Thread(target=one_pass) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # R4 waits for its credit; the five others are anonymised once, by one pass or another.
    assert sum(results) == 5
    assert privacy_events(app) == 5
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order).where(
            Order.email == EMAIL)) == 1  # A1004, whose return waits
