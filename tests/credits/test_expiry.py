"""Credit past its date (CREDIT_EXPIRY_DAYS): the scheduler writes off what is left, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from returns_service.common import clock
from returns_service.credits import services
from returns_service.credits.models import CreditEntry
from returns_service.db import db
from returns_service.scheduler import tick
from tests.credits.conftest import balance_of


def _kinds(app: Any, code: str) -> list[tuple[str, int]]:
    with app.app_context():
        credit = services.find_code(db.session, code)
        return [(e.kind, e.amount) for e in db.session.scalars(
            select(CreditEntry).where(CreditEntry.code_id == credit.id)
            .order_by(CreditEntry.id))]


def test_without_the_setting_credit_never_expires(app, api, issue, frozen_now) -> None:
    code = issue(5_000)
    assert tick(app, frozen_now + timedelta(days=3650))["credits_expired"] == 0
    body = api.get(f"/api/v1/credits/{code}", as_="integration").json
    assert (body["status"], body["balance"], body["expires_at"]) == ("active", 5_000, None)


def test_the_scheduler_expires_what_is_left_once(app, api, issue, frozen_now) -> None:
    app.config["CREDIT_EXPIRY_DAYS"] = 30
    code = issue(5_000, bonus=500)
    untouched = issue(1_000)
    api.post(f"/api/v1/credits/{code}/redemptions", as_="integration",
             json={"amount": 2_000, "order_reference": "W1"}, headers={"Idempotency-Key": "a"})
    body = api.get(f"/api/v1/credits/{code}", as_="integration").json
    assert body["expires_at"].startswith((frozen_now + timedelta(days=30)).date().isoformat())

    assert tick(app, frozen_now + timedelta(days=29))["credits_expired"] == 0
    clock.freeze(frozen_now + timedelta(days=30, seconds=1))
    assert tick(app, clock.utcnow())["credits_expired"] == 2
    assert tick(app, clock.utcnow())["credits_expired"] == 0  # again: nothing left to expire
    assert _kinds(app, code) == [("issue", 5_000), ("bonus", 500), ("redeem", -2_000),
                                 ("expire", -3_500)]
    assert balance_of(app, code) == 0 and balance_of(app, untouched) == 0
    body = api.get(f"/api/v1/credits/{code}", as_="integration").json
    assert (body["status"], body["balance"]) == ("expired", 0)

    refused = api.post(f"/api/v1/credits/{code}/redemptions", as_="integration",
                       json={"amount": 1, "order_reference": "W2"},
                       headers={"Idempotency-Key": "b"})
    assert refused.status_code == 409 and refused.json["type"].endswith("/credit-expired")


def test_past_its_date_a_code_cannot_be_redeemed_before_the_pass_runs(app, api, issue,
                                                                     frozen_now) -> None:
    app.config["CREDIT_EXPIRY_DAYS"] = 10
    code = issue(5_000)
    clock.freeze(frozen_now + timedelta(days=10))
    refused = api.post(f"/api/v1/credits/{code}/redemptions", as_="integration",
                       json={"amount": 100, "order_reference": "W1"},
                       headers={"Idempotency-Key": "late"})
    assert refused.status_code == 409 and refused.json["type"].endswith("/credit-expired")
    assert api.get(f"/api/v1/credits/{code}", as_="integration").json["status"] == "expired"


def test_a_redemption_reversed_after_expiry_is_expired_again(app, api, issue,
                                                            frozen_now) -> None:
    app.config["CREDIT_EXPIRY_DAYS"] = 30
    code = issue(5_000)
    spent = api.post(f"/api/v1/credits/{code}/redemptions", as_="integration",
                     json={"amount": 1_500, "order_reference": "W1"},
                     headers={"Idempotency-Key": "a"}).json
    clock.freeze(frozen_now + timedelta(days=31))
    assert tick(app, clock.utcnow())["credits_expired"] == 1
    back = api.post(f"/api/v1/credits/{code}/redemptions/{spent['id']}/reversal",
                    as_="integration", json={"reason": "order cancelled"})
    assert back.status_code == 201 and back.json["balance_after"] == 1_500
    assert tick(app, clock.utcnow())["credits_expired"] == 1
    assert _kinds(app, code) == [("issue", 5_000), ("redeem", -1_500), ("expire", -3_500),
                                 ("reverse", 1_500), ("expire", -1_500)]
