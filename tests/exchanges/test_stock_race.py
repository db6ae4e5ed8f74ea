"""Stock is never oversold, on PostgreSQL: twenty customers asking at once for the last three
units of a size, three get it; the others are told it is out of stock."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from returns_service.db import db
from returns_service.exchanges import services
from returns_service.exchanges.models import Exchange
from returns_service.exchanges.services import OutOfStock
from returns_service.returns.services import get_return
from tests.exchanges.conftest import stock_of

pytestmark = pytest.mark.postgres


def test_twenty_concurrent_exchanges_for_the_last_three_units_three_succeed(
        app, api, shirt_order) -> None:
    rmas = [shirt_order(f"R{n}", l_stock=3) for n in range(20)]
    barrier = threading.Barrier(20)

    def ask(rma: str) -> str:
        with app.app_context():
            ret = get_return(rma)
            barrier.wait(timeout=30)
            try:
                services.request_exchange(ret, ret.items[0], "SHIRT-L")
                db.session.commit()
                return "reserved"
            except OutOfStock:
                db.session.rollback()
                return "out of stock"

    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(ask, rmas))
    assert sorted(outcomes).count("reserved") == 3
    assert outcomes.count("out of stock") == 17
    assert stock_of(api, "SHIRT-L") == {"on_hand": 3, "reserved": 3, "available": 0}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Exchange)) == 3


def test_the_same_line_exchanged_twice_at_once_holds_one_unit(app, api, shirt_order) -> None:
    rma = shirt_order(l_stock=5)
    barrier = threading.Barrier(2)

    def ask(_: int) -> str:
        with app.app_context():
            ret = get_return(rma)
            barrier.wait(timeout=30)
            exchange = services.request_exchange(ret, ret.items[0], "SHIRT-L")
            db.session.commit()
            return exchange.to_sku

    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(ask, range(2))) == ["SHIRT-L", "SHIRT-L"]
    assert stock_of(api, "SHIRT-L")["reserved"] == 1


def test_two_callers_ending_a_paid_exchange_refund_the_difference_once(
        app, api, shirt_order) -> None:
    from returns_service.refunds.models import Refund

    rma = shirt_order()
    with app.app_context():
        ret = get_return(rma)
        exchange = services.request_exchange(ret, ret.items[0], "SHIRT-XL")
        exchange.payment_intent, exchange.status = "pi_paid_diff", "requested"  # as if paid
        db.session.commit()
        exchange_id = exchange.id
    barrier = threading.Barrier(2)

    def end(_: int) -> bool:
        with app.app_context():
            row = db.session.get(Exchange, exchange_id)
            barrier.wait(timeout=30)
            ended = services.end_exchange(row, "cancel")
            db.session.commit()
            return ended

    with ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(end, range(2))) == [False, True]
    with app.app_context():
        assert [(r.amount, r.payment_intent) for r in db.session.query(Refund)] == [
            (500, "pi_paid_diff")]
    assert stock_of(api, "SHIRT-XL")["reserved"] == 0
