"""Exactly once under concurrency, on PostgreSQL: one credit per return whoever issues it,
and concurrent redemptions through the HTTP API never overdraw a code."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from returns_service.credits import services
from returns_service.credits.models import CreditCode, CreditEntry
from returns_service.db import db
from tests.credits.conftest import balance_of

pytestmark = pytest.mark.postgres


def _post(url: str, token: str, body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json",
                                              "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_two_callers_issuing_for_one_return_at_once_make_one_credit(app, new_return_id) -> None:
    return_id = new_return_id()
    barrier = threading.Barrier(2)
    issued_in: list[threading.Event] = [threading.Event(), threading.Event()]

    def issue(index: int) -> str:
        with app.app_context():
            barrier.wait(timeout=10)
            code = services.issue_for_return(db.session, return_id=return_id,
                                             email="jane@example.com", currency="EUR",
                                             amount=5_000, bonus=500).code
            issued_in[index].set()
            # The first to insert holds its transaction open a moment: the other waits on
            # the unique index, then finds the committed credit.
            issued_in[1 - index].wait(timeout=0.5)
            db.session.commit()
            return code

    with ThreadPoolExecutor(2) as pool:
        codes = list(pool.map(issue, range(2)))
    assert codes[0] == codes[1]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CreditCode)) == 1
        kinds = db.session.scalars(select(CreditEntry.kind).order_by(CreditEntry.id)).all()
        assert kinds == ["issue", "bonus"]
    assert balance_of(app, codes[0]) == 5_500


def test_fifty_concurrent_redemptions_of_10_against_100_exactly_ten_succeed(
        app, live_server, tokens, issue) -> None:
    code = issue(100)
    url = f"{live_server.url}/api/v1/credits/{code}/redemptions"
    barrier = threading.Barrier(50)

    def redeem(index: int) -> tuple[int, dict[str, Any]]:
        barrier.wait(timeout=30)
        return _post(url, tokens["integration"], {"amount": 10, "order_reference": f"W{index}"},
                     key=f"order-W{index}")

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(redeem, range(50)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 10 + [409] * 40
    assert all(body["balance"] == 0 and body["type"].endswith("/insufficient-credit")
               for status, body in results if status == 409)
    # Each success saw the balance the one before it left: 90, 80, … 0, each once.
    assert sorted(body["balance_after"] for status, body in results if status == 201) == list(
        range(0, 100, 10))
    assert balance_of(app, code) == 0


def test_one_redemption_sent_ten_times_at_once_is_recorded_once(app, live_server, tokens,
                                                               issue) -> None:
    code = issue(1_000)
    url = f"{live_server.url}/api/v1/credits/{code}/redemptions"
    barrier = threading.Barrier(10)

    def redeem(_index: int) -> tuple[int, dict[str, Any]]:
        barrier.wait(timeout=30)
        return _post(url, tokens["integration"], {"amount": 300, "order_reference": "W1"},
                     key="retried-W1")

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(redeem, range(10)))
    assert {status for status, _ in results} == {201}
    assert len({json.dumps(body, sort_keys=True) for _, body in results}) == 1
    assert balance_of(app, code) == 700


def test_concurrent_reversals_of_one_redemption_restore_it_once(app, live_server, tokens,
                                                               issue, api) -> None:
    code = issue(1_000)
    spent = api.post(f"/api/v1/credits/{code}/redemptions", as_="integration",
                     json={"amount": 400, "order_reference": "W1"},
                     headers={"Idempotency-Key": "a"}).json
    url = f"{live_server.url}/api/v1/credits/{code}/redemptions/{spent['id']}/reversal"
    barrier = threading.Barrier(8)

    def reverse(_index: int) -> tuple[int, dict[str, Any]]:
        barrier.wait(timeout=30)
        return _post(url, tokens["integration"], {"reason": "cancelled"}, key="unused")

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(status for status, _ in pool.map(reverse, range(8)))
    assert statuses == [200] * 7 + [201]
    assert balance_of(app, code) == 1_000
