"""A customer's erasure (GDPR): admins only, refused while some of the data is still needed,
then nothing of the email, name or phone is left in any table, the reports keep their
figures, and asking again changes nothing."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from returns_service.db import db
from returns_service.photos.models import ReturnPhoto
from returns_service.privacy.models import ErasureRecord
from returns_service.returns.models import ReturnEvent
from returns_service.storage import FileNotStored, storage
from tests.privacy.customer import (
    ATTACHMENT_KEY,
    EMAIL,
    LABEL_KEY,
    PHOTO_KEY,
    seed_customer,
    where_found,
)
from tests.reports.history import policy_file

TWO_WEEKS = {"from": "2026-03-02", "to": "2026-03-16"}


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    app_config["RETURN_POLICY_FILE"] = policy_file(tmp_path)
    app_config["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = True
    app_config["STORAGE_LOCAL_DIR"] = str(tmp_path / "files")
    return app_config


@pytest.fixture
def jane(app: Any, api: Any, make_order: Any) -> dict[str, str]:
    return seed_customer(app, api, make_order)


def erase(api: Any, email: str = EMAIL, as_: str = "admin") -> Any:
    return api.post("/api/v1/personal-data/erasures", as_=as_, json={"email": email})


def close_open_returns(api: Any, rmas: dict[str, str]) -> None:
    for key in ("R2", "R5", "R6"):
        assert api.post(f"/api/v1/returns/{rmas[key]}/cancel", as_="agent",
                        json={}).status_code == 200
    redeemed = api.post(f"/api/v1/credits/{rmas['credit']}/redemptions", as_="integration",
                        headers={"Idempotency-Key": "spend-all"},
                        json={"amount": 1000, "currency": "EUR", "order_reference": "W1"})
    assert redeemed.status_code == 201, redeemed.json


def test_only_admins_may_export_or_erase(api: Any, jane: dict[str, str]) -> None:
    for role in ("agent", "warehouse", "integration"):
        assert erase(api, as_=role).status_code == 403
        assert api.post("/api/v1/personal-data/exports", as_=role,
                        json={"email": EMAIL}).status_code == 403
    assert api.post("/api/v1/personal-data/exports", json={"email": EMAIL}).status_code == 401


def test_bad_input_is_a_problem_not_a_crash(api: Any, jane: dict[str, str]) -> None:
    for body in ({}, {"email": "not an email"}, {"email": 7}, {"email": "x" * 300}, []):
        answer = api.post("/api/v1/personal-data/erasures", as_="admin", json=body)
        assert answer.status_code in (400, 422), answer.json
    unknown = api.post("/api/v1/personal-data/exports", as_="admin",
                       json={"email": "nobody@example.com"})
    assert unknown.status_code == 404


def test_erasure_waits_for_open_returns_and_unspent_credit(app: Any, api: Any,
                                                           jane: dict[str, str]) -> None:
    refused = erase(api)
    assert refused.status_code == 409
    reasons = " ".join(refused.json["reasons"])
    for key in ("R2", "R5", "R6"):
        assert jane[key] in reasons
    assert jane["credit"] in reasons and "Store credit" in reasons
    with app.app_context():  # nothing was erased
        assert "orders.email" in where_found()
        assert db.session.scalar(select(func.count()).select_from(ErasureRecord)) == 0


def test_after_erasure_nothing_of_the_customer_is_left_and_reports_keep_their_figures(
        app: Any, api: Any, jane: dict[str, str]) -> None:
    close_open_returns(api, jane)
    with app.app_context():
        before = where_found()
    # Her data is in every domain beforehand (the scan finds what it should).
    assert {"orders.email", "orders.customer_name", "conversation_messages.body",
            "sms_phones.phone", "sms_messages.to_phone", "feedback.comment",
            "notifications.to_email", "credit_codes.email",
            "webhook_deliveries.payload", "return_photos.file_name"} <= before
    report = api.get("/api/v1/reports/service", as_="agent", query=TWO_WEEKS).json
    credit_report = api.get("/api/v1/reports/service", as_="agent",
                            query={"from": "2026-03-02", "to": "2026-03-03"}).json

    done = erase(api)

    assert done.status_code == 200, done.json
    assert done.json["erased"] is True
    assert done.json["returns"] == 6 and done.json["orders"] == 6
    with app.app_context():
        assert where_found() == set()
        for key in (LABEL_KEY, PHOTO_KEY, ATTACHMENT_KEY):
            with pytest.raises(FileNotStored):
                storage().get(key)
        assert db.session.scalar(select(func.count()).select_from(ReturnPhoto)) == 0
        # One audit event per return, without the data; one audit row, without the email.
        events = db.session.scalars(select(ReturnEvent).where(ReturnEvent.kind == "privacy"))
        assert [e.note for e in events] == ["Personal data erased"] * 6
        record = db.session.scalars(select(ErasureRecord)).one()
        assert (record.reason, record.actor_label, record.returns) == (
            "request", "admin@shop.test", 6)
    assert api.get("/api/v1/reports/service", as_="agent", query=TWO_WEEKS).json == report
    assert api.get("/api/v1/reports/service", as_="agent",
                   query={"from": "2026-03-02", "to": "2026-03-03"}).json == credit_report

    again = erase(api)
    assert again.status_code == 200
    assert again.json["erased"] is False and not any(again.json["counts"].values())
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ErasureRecord)) == 1
    assert api.post("/api/v1/personal-data/exports", as_="admin",
                    json={"email": EMAIL}).status_code == 404


@pytest.mark.postgres
def test_two_admins_erasing_at_once_erase_once(app: Any, api: Any,
                                               jane: dict[str, str]) -> None:
    close_open_returns(api, jane)
    start, answers = threading.Barrier(3), []

    def ask() -> None:
        client = app.test_client()
        start.wait()
        answers.append(client.post("/api/v1/personal-data/erasures", json={"email": EMAIL},
                                   headers={"Authorization": f"Bearer {api.tokens['admin']}"}))

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [200, 200, 200]
    assert sorted(a.json["erased"] for a in answers) == [False, False, True]
    with app.app_context():
        assert where_found() == set()
        assert db.session.scalar(select(func.count()).select_from(ErasureRecord)) == 1
        assert db.session.scalar(select(func.count()).select_from(ReturnEvent)
                                 .where(ReturnEvent.kind == "privacy")) == 6
