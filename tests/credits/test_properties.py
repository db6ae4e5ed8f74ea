"""Random sequences of redemptions (new and replayed keys), reversals (new and repeated) and
refund conversions against one code: its balance never goes below zero and always equals
what a plain model of the rules says, after every step and at every point of its ledger."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from returns_service.common.errors import DomainError
from returns_service.credits import services
from returns_service.credits.errors import IdempotencyKeyReused, InsufficientCredit
from returns_service.credits.models import CreditCode, CreditEntry
from returns_service.db import db

ISSUED, BONUS = 100, 20
steps = st.lists(st.one_of(
    st.tuples(st.just("redeem"), st.integers(1, 60), st.integers(0, 5)),  # amount, key
    st.tuples(st.just("reverse"), st.integers(0, 5), st.just(0)),  # which redemption
    st.tuples(st.just("convert"), st.integers(1, 60), st.just(0)),
), min_size=1, max_size=25)


def test_random_redeem_reverse_sequences_never_take_a_code_below_zero(app, new_return_id):
    return_id = new_return_id()

    @given(sequence=steps)
    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(sequence: list[tuple[str, int, int]]) -> None:
        with app.app_context():
            db.session.execute(delete(CreditEntry))
            db.session.execute(delete(CreditCode))
            code = services.issue_for_return(db.session, return_id=return_id,
                                             email="jane@example.com", currency="EUR",
                                             amount=ISSUED, bonus=BONUS).code
            db.session.commit()
            expected = ISSUED + BONUS
            redeemed: dict[int, int] = {}  # key -> amount, as recorded
            ids: list[int] = []  # redemption ids in order
            reversed_ids: set[int] = set()
            for kind, number, key in sequence:
                try:
                    if kind == "redeem":
                        result = services.redeem(db.session, code, amount=number,
                                                 order_reference=f"W{key}",
                                                 idempotency_key=f"k{key}")
                        if result.replayed:
                            assert redeemed[key] == number
                        else:
                            assert key not in redeemed and number <= expected
                            redeemed[key] = number
                            ids.append(result.id)
                            expected -= number
                        assert result.balance_after >= 0
                    elif kind == "reverse" and ids:
                        target = ids[number % len(ids)]
                        reversal = services.reverse_redemption(db.session, code, target,
                                                               reason="cancelled")
                        assert reversal.replayed == (target in reversed_ids)
                        if not reversal.replayed:
                            reversed_ids.add(target)
                            expected += reversal.amount
                    elif kind == "convert":
                        services.convert_to_refund_entry(db.session, code, amount=number)
                        expected -= number
                    db.session.commit()
                except InsufficientCredit as refused:
                    db.session.rollback()
                    assert refused.balance == expected < number
                except IdempotencyKeyReused:
                    db.session.rollback()
                    assert kind == "redeem" and redeemed[key] != number
                except DomainError:
                    db.session.rollback()
                    raise
                credit = services.find_code(db.session, code)
                current = services.balance(db.session, credit.id)
                assert current == expected >= 0
                # …and at no point in the ledger's history either.
                running = 0
                for amount in db.session.scalars(select(CreditEntry.amount)
                                                 .order_by(CreditEntry.id)):
                    running += amount
                    assert running >= 0
            db.session.rollback()

    run()
