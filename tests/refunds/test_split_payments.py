"""Orders paid several ways: the refund is split by the policy's strategy; the card part is
refunded at Stripe (localstripe), a gift-card part issued as store credit, a store-credit
part paid back onto its own code, an `other` part flagged for staff; once each."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from returns_service.credits import services as credits
from returns_service.credits.models import CreditEntry
from returns_service.db import db
from returns_service.refunds.models import Refund
from returns_service.refunds.payouts import pay_part
from returns_service.returns.models import Return
from tests.conftest import order_payload
from workflows.returns import Actor

SYSTEM = Actor("system", None, "system")


@pytest.fixture
def app_config(stripe_app_config: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    return stripe_app_config


def policy(app_config: dict[str, Any], tmp_path: Any, strategy: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(f'refund_split = "{strategy}"\n')
    app_config["RETURN_POLICY_FILE"] = str(path)


def import_order(api: Any, localstripe: Any, payments: list[dict[str, Any]],
                 number: str = "A1001") -> str | None:
    """The usual order (15,000 paid: lines 14,500, shipping 500), paid as `payments`; the
    card part really paid at localstripe."""
    intent = None
    for payment in payments:
        if payment["provider"] == "stripe":
            intent = payment["payment_intent"] = localstripe.paid_payment_intent(
                payment["amount"], "EUR")
    payload = order_payload(number, payments=payments)
    payload.pop("payment")
    imported = api.post("/api/v1/orders", as_="integration", json=payload)
    assert imported.status_code == 201, imported.json
    return intent


def settle(api: Any, items: list[tuple[str, int, str]], number: str = "A1001") -> dict[str, Any]:
    created = api.post("/api/v1/returns", json={
        "order_number": number, "email": "jane@example.com",
        "items": [{"sku": sku, "quantity": q, "reason": r} for sku, q, r in items]})
    assert created.status_code == 201, created.json
    rma = created.json["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    received = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": sku, "quantity": q, "condition": "resellable"}
                  for sku, q, _ in items]})
    assert received.status_code == 200, received.json
    return api.get(f"/api/v1/returns/{rma}", as_="agent").json


def parts(shown: dict[str, Any]) -> list[tuple[str, int, str]]:
    return sorted((r["provider"], r["amount"], r["status"]) for r in shown["refunds"])


def credit_of(app: Flask, rma: str) -> tuple[str, int]:
    with app.app_context():
        return_id = db.session.scalar(select(Return.id).where(Return.rma == rma))
        code = credits.credit_for_return(db.session, return_id)
        assert code is not None
        return code.code, credits.balance(db.session, code.id)


def test_card_first_pays_the_card_back_then_the_gift_card(app, api, localstripe):
    intent = import_order(api, localstripe, [
        {"provider": "stripe", "amount": 10000},
        {"provider": "gift_card", "amount": 5000, "reference": "GC-1234"}])

    shirts = settle(api, [("SHIRT", 2, "doesnt_fit")])
    assert shirts["status"] == "refunded"
    assert parts(shirts) == [("stripe", 5000, "succeeded")]

    jeans = settle(api, [("JEANS", 1, "damaged")])  # 8,000 and the 500 shipping
    assert jeans["status"] == "refunded"
    assert parts(jeans) == [("gift_card", 3500, "succeeded"), ("stripe", 5000, "succeeded")]
    assert sum(amount for _, amount, _ in parts(jeans)) == jeans["refund"]["total"] == 8500
    assert [r["amount"] for r in localstripe.refunds_for(intent)] == [5000, 5000]
    code, balance = credit_of(app, jeans["rma"])
    assert balance == 3500  # issued as store credit, no bonus
    events = api.get(f"/api/v1/returns/{jeans['rma']}/events", as_="agent").json
    assert any(code in (e.get("note") or "") for e in events), events


def test_gift_card_first_pays_the_gift_card_back_first(app_config, tmp_path, request):
    policy(app_config, tmp_path, "gift_card_first")
    api, localstripe = (request.getfixturevalue(n) for n in ("api", "localstripe"))
    intent = import_order(api, localstripe, [
        {"provider": "stripe", "amount": 10000},
        {"provider": "gift_card", "amount": 5000, "reference": "GC-1"}])
    shown = settle(api, [("JEANS", 1, "doesnt_fit")])
    assert parts(shown) == [("gift_card", 5000, "succeeded"), ("stripe", 3000, "succeeded")]
    assert [r["amount"] for r in localstripe.refunds_for(intent)] == [3000]


def test_proportional_split(app_config, tmp_path, request):
    policy(app_config, tmp_path, "proportional")
    api, localstripe = (request.getfixturevalue(n) for n in ("api", "localstripe"))
    import_order(api, localstripe, [{"provider": "stripe", "amount": 10000},
                                    {"provider": "gift_card", "amount": 5000}])
    shown = settle(api, [("JEANS", 1, "doesnt_fit")])
    # 8,000 in the ratio 10,000 : 5,000.
    assert parts(shown) == [("gift_card", 2667, "succeeded"), ("stripe", 5333, "succeeded")]


def test_store_credit_part_goes_back_onto_its_own_code_without_bonus(app, api, localstripe):
    # A credit code the customer spent on this order, from an earlier return of another one.
    spent = api.post("/api/v1/orders", as_="integration", json=order_payload("B2002"))
    assert spent.status_code == 201
    earlier = settle(api, [("SHIRT", 1, "doesnt_fit")], number="B2002")
    with app.app_context():
        code = credits.issue_for_return(db.session, return_id=db.session.scalar(
            select(Return.id).where(Return.rma == earlier["rma"])),
            email="jane@example.com", currency="EUR", amount=4000, bonus=0).code
        credits.redeem(db.session, code, amount=4000, currency="EUR",
                       order_reference="A1001", idempotency_key="order-A1001")
        db.session.commit()

    import_order(api, localstripe, [{"provider": "store_credit", "amount": 4000, "code": code},
                                    {"provider": "stripe", "amount": 11000}])
    policy_first = settle(api, [("JEANS", 1, "doesnt_fit")])  # card_first: all to the card
    assert parts(policy_first) == [("stripe", 8000, "succeeded")]
    shirts = settle(api, [("SHIRT", 2, "doesnt_fit")])  # 3,000 left on the card, 2,000 back
    assert parts(shirts) == [("store_credit", 2000, "succeeded"), ("stripe", 3000, "succeeded")]
    with app.app_context():
        found = credits.find_code(db.session, code)
        assert credits.balance(db.session, found.id) == 2000
        kinds = [e.kind for e in db.session.scalars(
            select(CreditEntry).where(CreditEntry.code_id == found.id).order_by(CreditEntry.id))]
    assert kinds == ["issue", "redeem", "refund_to_credit"]


def test_other_payment_is_recorded_for_staff_to_pay_by_hand(api, localstripe):
    import_order(api, localstripe, [{"provider": "other", "amount": 15000,
                                     "reference": "bank transfer 42"}])
    shown = settle(api, [("SHIRT", 1, "doesnt_fit")])
    assert parts(shown) == [("other", 2500, "pending")]
    assert shown["status"] == "refund_pending"
    assert shown["needs_review"] is True
    assert "bank transfer 42" in shown["review_reason"]


def test_a_part_paid_again_is_paid_once(app, api, localstripe):
    """A retry of a part (a settlement run again) answers the first part: no second credit."""
    import_order(api, localstripe, [{"provider": "stripe", "amount": 5000},
                                    {"provider": "gift_card", "amount": 10000}])
    shown = settle(api, [("JEANS", 1, "doesnt_fit")])
    assert parts(shown) == [("gift_card", 3000, "succeeded"), ("stripe", 5000, "succeeded")]
    with app.app_context():
        ret = db.session.scalar(select(Return).where(Return.rma == shown["rma"]))
        again = pay_part(ret, SYSTEM, index=1, payment={"provider": "gift_card",
                                                        "amount": 10000}, amount=3000,
                         attempt=1)
        db.session.commit()
        assert again.status == "succeeded"
        assert db.session.query(Refund).filter_by(return_id=ret.id).count() == 2
    assert credit_of(app, shown["rma"])[1] == 3000


@pytest.mark.postgres
def test_a_store_credit_refund_sent_twice_at_once_is_recorded_once(app, api, localstripe,
                                                                    make_return):
    earlier = make_return("B2002")
    with app.app_context():
        code = credits.issue_for_return(db.session, return_id=db.session.scalar(
            select(Return.id).where(Return.rma == earlier["rma"])),
            email="jane@example.com", currency="EUR", amount=100, bonus=0).code
        db.session.commit()
    barrier, errors = threading.Barrier(2), []

    def pay() -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                credits.refund_to_code(db.session, code, amount=700, currency="EUR",
                                       idempotency_key="return-R1")
                db.session.commit()
            except Exception as exc:  # reported below
                errors.append(exc)

    threads = [threading.Thread(target=pay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with app.app_context():
        found = credits.find_code(db.session, code)
        assert credits.balance(db.session, found.id) == 800



def test_a_store_credit_code_that_cannot_take_it_back_is_left_to_staff(api, localstripe):
    import_order(api, localstripe, [{"provider": "store_credit", "amount": 15000,
                                     "code": "NO-SUCH-CODE"}])
    shown = settle(api, [("SHIRT", 1, "doesnt_fit")])
    assert parts(shown) == [("store_credit", 2500, "pending")]
    assert shown["needs_review"] is True
    assert "could not go back onto store credit" in shown["review_reason"]


@pytest.mark.postgres
def test_concurrent_receipts_of_a_split_return_pay_each_part_once(app, api, tokens,
                                                                   localstripe):
    intent = import_order(api, localstripe, [{"provider": "stripe", "amount": 5000},
                                             {"provider": "gift_card", "amount": 10000}])
    rma = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": "JEANS", "quantity": 1, "reason": "doesnt_fit"}]}).json["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    calls = 8
    barrier, statuses, lock = threading.Barrier(calls), [], threading.Lock()

    def receive() -> None:
        client = app.test_client()
        barrier.wait(timeout=30)
        status = client.post(f"/api/v1/returns/{rma}/receive",
                             headers={"Authorization": f"Bearer {tokens['warehouse']}"},
                             json={"items": [{"sku": "JEANS", "quantity": 1,
                                              "condition": "resellable"}]}).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=receive) for _ in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses.count(200) == 1 and len(statuses) == calls
    assert all(status in (200, 409) for status in statuses), statuses
    shown = api.get(f"/api/v1/returns/{rma}", as_="agent").json
    assert parts(shown) == [("gift_card", 3000, "succeeded"), ("stripe", 5000, "succeeded")]
    assert credit_of(app, rma)[1] == 3000
    assert [r["amount"] for r in localstripe.refunds_for(intent)] == [5000]
