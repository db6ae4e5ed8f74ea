"""The ledger through the services the return side calls: issued once per return, balances
as sums of entries, conversions to refunds, a customer's codes, the outstanding liability."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from returns_service.common.errors import ValidationFailed
from returns_service.credits import services
from returns_service.credits.errors import InsufficientCredit
from returns_service.credits.models import CreditCode, CreditEntry
from returns_service.db import db
from tests.credits.conftest import balance_of


def test_a_return_is_credited_with_its_bonus_as_a_separate_entry(app, new_return_id) -> None:
    return_id = new_return_id()
    with app.app_context():
        credit = services.issue_for_return(db.session, return_id=return_id,
                                           email="  Jane@Example.COM ", currency="eur",
                                           amount=10_895, bonus=1_090, actor_type="staff",
                                           actor_id=7, actor_label="agent@shop.test")
        db.session.commit()
        assert (credit.email, credit.currency, credit.expires_at) == (
            "jane@example.com", "EUR", None)
        entries = db.session.scalars(select(CreditEntry).order_by(CreditEntry.id)).all()
        assert [(e.kind, e.amount, e.actor_label) for e in entries] == [
            ("issue", 10_895, "agent@shop.test"), ("bonus", 1_090, "agent@shop.test")]
        assert services.balance(db.session, credit.id) == 11_985
        assert services.credit_for_return(db.session, return_id).code == credit.code


def test_issuing_again_for_the_same_return_answers_the_first_credit(app, new_return_id) -> None:
    return_id = new_return_id()
    with app.app_context():
        first = services.issue_for_return(db.session, return_id=return_id,
                                          email="jane@example.com", currency="EUR",
                                          amount=5_000, bonus=500)
        db.session.commit()
        again = services.issue_for_return(db.session, return_id=return_id,
                                          email="jane@example.com", currency="EUR",
                                          amount=9_999, bonus=0)
        db.session.commit()
        assert again.code == first.code
        assert db.session.scalar(select(func.count()).select_from(CreditCode)) == 1
        assert db.session.scalar(select(func.count()).select_from(CreditEntry)) == 2
        assert services.balance(db.session, first.id) == 5_500


def test_no_bonus_no_bonus_entry_and_nonsense_figures_are_refused(app, new_return_id) -> None:
    return_id, other = new_return_id(), new_return_id()
    with app.app_context():
        credit = services.issue_for_return(db.session, return_id=return_id,
                                           email="jane@example.com", currency="USD",
                                           amount=2_500, bonus=0)
        assert [e.kind for e in credit.entries] == ["issue"]
        for bad in ({"amount": 0}, {"amount": -5}, {"bonus": -1}, {"currency": "EURO"},
                    {"email": "nobody"}):
            arguments = {"email": "jane@example.com", "currency": "EUR", "amount": 100,
                         "bonus": 0, **bad}
            with pytest.raises(ValidationFailed) as refused:
                services.issue_for_return(db.session, return_id=other, **arguments)
            assert set(refused.value.errors) == set(bad)
        db.session.rollback()


def test_the_balance_is_the_sum_of_the_entries(app, issue) -> None:
    code = issue(10_000, bonus=1_000)
    with app.app_context():
        services.redeem(db.session, code, amount=2_500, order_reference="W1",
                        idempotency_key="k1")
        second = services.redeem(db.session, code, amount=500, order_reference="W2",
                                 idempotency_key="k2")
        assert second.balance_after == 8_000
        services.reverse_redemption(db.session, code, second.id, reason="order cancelled")
        db.session.commit()
    assert balance_of(app, code) == 8_500
    with app.app_context():
        credit = services.find_code(db.session, code)
        kinds = [(e.kind, e.amount) for e in credit.entries]
        assert kinds == [("issue", 10_000), ("bonus", 1_000), ("redeem", -2_500),
                         ("redeem", -500), ("reverse", 500)]
        assert sum(amount for _, amount in kinds) == 8_500


def test_credit_turned_into_a_refund_draws_the_balance_down_never_below_zero(app, issue) -> None:
    code = issue(6_000)
    with app.app_context():
        with pytest.raises(InsufficientCredit) as refused:
            services.convert_to_refund_entry(db.session, code, amount=6_001,
                                             actor_type="staff", actor_id=1,
                                             actor_label="admin@shop.test")
        assert refused.value.balance == 6_000
        entry = services.convert_to_refund_entry(db.session, code, amount=4_000,
                                                 actor_type="staff", actor_id=1,
                                                 actor_label="admin@shop.test",
                                                 note="Customer moved abroad",
                                                 idempotency_key="conv-1")
        again = services.convert_to_refund_entry(db.session, code, amount=4_000,
                                                 idempotency_key="conv-1")
        db.session.commit()
        assert (entry.kind, entry.amount, again.id) == ("refund_conversion", -4_000, entry.id)
    assert balance_of(app, code) == 2_000


def test_staff_see_every_code_of_an_email_with_its_entries(app, issue) -> None:
    older = issue(3_000)
    newer = issue(2_000, bonus=200, email="JANE@example.com")
    issue(9_000, email="someone@else.test")
    with app.app_context():
        services.redeem(db.session, older, amount=3_000, order_reference="W9",
                        idempotency_key="all")
        db.session.commit()
        found = services.codes_for_email(db.session, " Jane@Example.com")
        assert [(s.code.code, s.balance, s.status) for s in found] == [
            (newer, 2_200, "active"), (older, 0, "spent")]
        assert [e.kind for e in found[1].entries] == ["issue", "redeem"]
        assert found[1].entries[1].order_reference == "W9"
        assert services.codes_for_email(db.session, "nobody@example.com") == []


def test_outstanding_credit_is_the_unexpired_balances_per_currency(app, issue,
                                                                   frozen_now: Any) -> None:
    from datetime import timedelta

    from returns_service.common import clock

    euros = issue(10_000, bonus=1_000)
    issue(2_500)
    issue(7_000, currency="USD")
    app.config["CREDIT_EXPIRY_DAYS"] = 30
    expiring = issue(4_000, currency="USD")
    with app.app_context():
        services.redeem(db.session, euros, amount=3_000, order_reference="W1",
                        idempotency_key="k")
        db.session.commit()
        assert services.outstanding_by_currency(db.session) == {"EUR": 10_500, "USD": 11_000}
        later = frozen_now + timedelta(days=31)
        # Past its date the code counts as nothing, before and after the expiry pass.
        assert services.outstanding_by_currency(db.session, later) == {"EUR": 10_500,
                                                                        "USD": 7_000}
        clock.freeze(later)
        assert services.expire_due(db.session, later) == 1
        db.session.commit()
        assert services.outstanding_by_currency(db.session) == {"EUR": 10_500, "USD": 7_000}
        assert services.credit_summary(db.session, expiring).status == "expired"


def test_the_database_itself_refuses_a_second_credit_a_second_reversal_and_wrong_signs(
        app, api, issue) -> None:
    from sqlalchemy.exc import IntegrityError

    code = issue(1_000)
    spent = api.post(f"/api/v1/credits/{code}/redemptions", as_="integration",
                     json={"amount": 100, "order_reference": "W1"},
                     headers={"Idempotency-Key": "a"}).json
    api.post(f"/api/v1/credits/{code}/redemptions/{spent['id']}/reversal", as_="integration",
             json={"reason": "cancelled"})
    with app.app_context():
        credit = services.find_code(db.session, code)
        code_id, return_id = credit.id, credit.source_return_id
        db.session.rollback()
        writes = [
            CreditCode(code="RS-2222-2222-2222", email="x@example.com", currency="EUR",
                       source_return_id=return_id),
            CreditEntry(code_id=code_id, kind="reverse", amount=100,
                        reverses_entry_id=spent["id"], actor_type="system"),
            CreditEntry(code_id=code_id, kind="redeem", amount=100, actor_type="system"),
            CreditEntry(code_id=code_id, kind="issue", amount=-5, actor_type="system"),
            CreditEntry(code_id=code_id, kind="gift", amount=5, actor_type="system"),
            CreditEntry(code_id=code_id, kind="redeem", amount=-1, idempotency_key="a",
                        actor_type="system"),
            CreditEntry(code_id=code_id, kind="issue", amount=1, idempotency_key="issue",
                        actor_type="system"),
        ]
        for row in writes:
            db.session.add(row)
            with pytest.raises(IntegrityError):
                db.session.flush()
            db.session.rollback()
    assert balance_of(app, code) == 1_000
