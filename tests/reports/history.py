"""A small, fully known return history, made through the real services with a frozen clock.

Week 1 starts Monday 2026-03-02 (T0 = 09:00 UTC). Every figure the tests expect is worked
out by hand from the timestamps below.

| RMA | order | requested     | first response           | then                              |
|-----|-------|---------------|--------------------------|-----------------------------------|
| R1  | A1001 | T0            | agent approves T0+3h     | received T0+2d, refunded T0+2d+4h |
| R2  | A1002 | T0+1h         | agent approves T0+6h     | (stays approved)                  |
| R3  | A1003 | T0+2h         | agent rejects T0+32h     |                                   |
| R4  | A1004 | T0+4h         | auto-approved at once    | agent cancels T0+28h              |
| R5  | A1005 | T0+3d (phone) | (none)                   |                                   |
| R6  | A1006 | T0+7d+1h      | agent approves T0+7d+3h  | (week 2)                          |
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from returns_service.common import clock
from returns_service.db import db
from returns_service.feedback.models import Feedback, FeedbackAnswer
from returns_service.payments.stripe import ProviderRefund
from returns_service.refunds.models import Refund
from returns_service.refunds.services import record_outcome
from returns_service.returns.models import Return

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # when the report is read
H = timedelta(hours=1)
D = timedelta(days=1)

AUTO_APPROVE_POLICY = """
[auto_approve]
enabled = true
reasons = ["damaged"]
max_order_total = { EUR = 20000 }
"""


def policy_file(tmp_path: Any) -> str:
    path = tmp_path / "policy.toml"
    path.write_text(AUTO_APPROVE_POLICY)
    return str(path)


def _at(moment: datetime) -> None:
    clock.freeze(moment)


def _request(api: Any, make_order: Any, number: str, items: list[dict[str, Any]],
             channel: str | None = None) -> str:
    make_order(number)
    body: dict[str, Any] = {"order_number": number, "email": "jane@example.com",
                            "items": items}
    if channel:
        body["channel"] = channel
    response = api.post("/api/v1/returns", json=body, as_="agent" if channel else None)
    assert response.status_code == 201, response.json
    return response.json["rma"]


def _ok(response: Any) -> None:
    assert response.status_code == 200, response.json


def seed_history(app: Any, api: Any, make_order: Any) -> dict[str, str]:
    """Create R1..R6 and four feedback answers; leave the clock frozen at NOW."""
    rmas: dict[str, str] = {}
    _at(T0)
    rmas["R1"] = _request(api, make_order, "A1001",
                          [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}])
    _at(T0 + H)
    rmas["R2"] = _request(api, make_order, "A1002", [
        {"sku": "SHIRT", "quantity": 2, "reason": "doesnt_fit"},
        {"sku": "JEANS", "quantity": 1, "reason": "changed_mind"}])
    _at(T0 + 2 * H)
    rmas["R3"] = _request(api, make_order, "A1003",
                          [{"sku": "JEANS", "quantity": 1, "reason": "changed_mind"}])
    _at(T0 + 3 * H)
    _ok(api.post(f"/api/v1/returns/{rmas['R1']}/approve", as_="agent", json={}))
    _at(T0 + 4 * H)
    rmas["R4"] = _request(api, make_order, "A1004",
                          [{"sku": "SHIRT", "quantity": 1, "reason": "damaged"}])
    _at(T0 + 6 * H)
    _ok(api.post(f"/api/v1/returns/{rmas['R2']}/approve", as_="agent", json={}))
    _at(T0 + 28 * H)
    _ok(api.post(f"/api/v1/returns/{rmas['R4']}/cancel", as_="agent", json={}))
    _at(T0 + 32 * H)
    _ok(api.post(f"/api/v1/returns/{rmas['R3']}/reject", as_="agent",
                 json={"reason": "used", "note": "Worn."}))
    _at(T0 + 2 * D)
    _ok(api.post(f"/api/v1/returns/{rmas['R1']}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]}))
    _at(T0 + 2 * D + 4 * H)
    with app.app_context():  # what Stripe's webhook reports, through the refund service
        refund = db.session.query(Refund).one()
        record_outcome(refund.id, provider=ProviderRefund(
            id="re_seed_1", status="succeeded", amount=refund.amount, currency="EUR",
            payment_intent=refund.payment_intent, failure_reason=None, metadata={}))
    _at(T0 + 3 * D)
    rmas["R5"] = _request(api, make_order, "A1005",
                          [{"sku": "JEANS", "quantity": 1, "reason": "doesnt_fit"}],
                          channel="phone")
    with app.app_context():
        ids = {key: db.session.query(Return.id).filter_by(rma=rma).scalar()
               for key, rma in rmas.items()}
        for key, rating, nps in (("R1", 5, 10), ("R3", 2, 3), ("R4", 4, 9), ("R2", 3, None)):
            db.session.add(Feedback(return_id=ids[key], rating=rating, nps=nps,
                                    created_at=T0 + 3 * D))
            db.session.add(FeedbackAnswer(return_id=ids[key], rating=rating, nps=nps,
                                          source="survey", created_at=T0 + 3 * D))
        db.session.commit()
    _at(T0 + 7 * D + H)
    rmas["R6"] = _request(api, make_order, "A1006",
                          [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}])
    _at(T0 + 7 * D + 3 * H)
    _ok(api.post(f"/api/v1/returns/{rmas['R6']}/approve", as_="agent", json={}))
    _at(NOW)
    return rmas
