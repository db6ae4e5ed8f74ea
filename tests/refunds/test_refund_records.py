"""The refund record itself: one live refund per return, enforced by the database."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from returns_service.db import db
from returns_service.refunds.models import Refund
from returns_service.returns.models import Return


@pytest.fixture
def return_id(app, api, make_return):
    rma = make_return()["rma"]
    with app.app_context():
        return db.session.scalar(select(Return.id).where(Return.rma == rma))


def refund(return_id: int, attempt: int, status: str, origin: str = "service") -> Refund:
    return Refund(return_id=return_id, attempt=attempt, amount=2500, currency="EUR",
                  status=status, origin=origin, idempotency_key=f"k-{attempt}")


@pytest.mark.parametrize("second", ["pending", "requires_action", "succeeded"])
def test_database_refuses_a_second_live_refund(app, return_id, second):
    with app.app_context():
        db.session.add(refund(return_id, 1, "pending"))
        db.session.commit()
        db.session.add(refund(return_id, 2, second))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_failed_attempts_stay_next_to_a_new_one(app, return_id):
    with app.app_context():
        db.session.add_all([refund(return_id, 1, "failed"), refund(return_id, 2, "canceled"),
                            refund(return_id, 3, "pending"),
                            refund(return_id, 4, "succeeded", origin="external")])
        db.session.commit()
        assert db.session.scalars(select(Refund.status).order_by(Refund.attempt)).all() == [
            "failed", "canceled", "pending", "succeeded"]
