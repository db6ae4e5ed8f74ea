"""Fixtures for store credit: a credit issued for a real return, as the return side will."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from returns_service.credits import services
from returns_service.db import db
from returns_service.returns.models import Return

_numbers = itertools.count(1)


def return_id_of(app: Flask, rma: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(Return.id).where(Return.rma == rma))
        assert found is not None
        return int(found)


@pytest.fixture
def new_return_id(app: Flask, make_return: Any) -> Any:
    """The id of a fresh return of jane@example.com's (its own order each time)."""

    def make() -> int:
        return return_id_of(app, make_return(f"CR{next(_numbers)}")["rma"])

    return make


@pytest.fixture
def issue(app: Flask, new_return_id: Any) -> Any:
    """Issue a credit for a fresh return and commit; answers the code."""

    def issue_(amount: int = 10_000, *, bonus: int = 0, currency: str = "EUR",
               email: str = "jane@example.com") -> str:
        return_id = new_return_id()
        with app.app_context():
            code = services.issue_for_return(db.session, return_id=return_id, email=email,
                                             currency=currency, amount=amount, bonus=bonus).code
            db.session.commit()
        return code

    return issue_


def balance_of(app: Flask, code: str) -> int:
    with app.app_context():
        return services.balance(db.session, services.find_code(db.session, code).id)


def rma_of(app: Flask, code: str) -> str:
    """The RMA of the return a code was issued for."""
    with app.app_context():
        credit = services.find_code(db.session, code)
        return str(db.session.scalar(select(Return.rma).where(
            Return.id == credit.source_return_id)))
