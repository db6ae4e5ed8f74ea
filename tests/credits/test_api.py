"""The store's credit API: read a code, redeem it once per Idempotency-Key, reverse it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from returns_service.credits.models import CreditEntry
from returns_service.db import db
from tests.credits.conftest import balance_of


def _redeem(api: Any, code: str, amount: int, key: str | None, *, order: str = "W100",
            as_: str = "integration", **extra: Any) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api.post(f"/api/v1/credits/{code}/redemptions", as_=as_, headers=headers,
                    json={"amount": amount, "order_reference": order, **extra})


def _entries(app: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(CreditEntry)))


def test_the_store_reads_a_code_however_it_was_typed(api, issue) -> None:
    code = issue(10_895, bonus=1_090)
    for typed in (code, code.lower(), code.replace("-", ""), code[3:]):
        response = api.get(f"/api/v1/credits/{typed}", as_="integration")
        assert response.status_code == 200
        assert response.json == {"code": code, "currency": "EUR", "balance": 11_985,
                                 "status": "active", "expires_at": None}
    assert api.get(f"/api/v1/credits/{code}", as_="agent").status_code == 200


def test_an_unknown_or_mistyped_code_is_a_404_problem(api, issue) -> None:
    code = issue()
    typo = code[:-1] + ("2" if code[-1] != "2" else "3")
    for wrong in (typo, "RS-2222-2222-2222", "nonsense"):
        response = api.get(f"/api/v1/credits/{wrong}", as_="integration")
        assert response.status_code == 404
        assert response.json["type"].endswith("/credit-not-found")


def test_a_redemption_takes_the_amount_off_and_says_what_is_left(app, api, issue) -> None:
    code = issue(10_000)
    response = _redeem(api, code, 2_599, "order-W100-1", order="W100", currency="eur")
    assert response.status_code == 201
    body = response.json
    assert {k: body[k] for k in ("code", "amount", "currency", "order_reference",
                                 "balance_after")} == {
        "code": code, "amount": 2_599, "currency": "EUR", "order_reference": "W100",
        "balance_after": 7_401}
    assert "Idempotent-Replayed" not in response.headers
    assert api.get(f"/api/v1/credits/{code}", as_="integration").json["balance"] == 7_401


def test_the_same_key_again_answers_the_same_and_records_nothing(app, api, issue) -> None:
    code = issue(10_000)
    first = _redeem(api, code, 3_000, "k-1")
    _redeem(api, code, 1_000, "k-2")  # another redemption in between
    again = _redeem(api, code, 3_000, "k-1")
    assert (again.status_code, again.json) == (201, first.json)
    assert again.json["balance_after"] == 7_000
    assert again.headers["Idempotent-Replayed"] == "true"
    assert balance_of(app, code) == 6_000 and _entries(app) == 3


def test_a_key_reused_for_another_redemption_is_refused(app, api, issue) -> None:
    code = issue(10_000)
    _redeem(api, code, 3_000, "k-1", order="W1")
    for changed in ({"amount": 3_001, "order": "W1"}, {"amount": 3_000, "order": "W2"}):
        response = _redeem(api, code, changed["amount"], "k-1", order=changed["order"])
        assert response.status_code == 422
        assert response.json["type"].endswith("/idempotency-key-reused")
    assert balance_of(app, code) == 7_000
    other = issue(500)  # keys belong to one code: the same key on another is new
    assert _redeem(api, other, 500, "k-1").status_code == 201


def test_without_an_idempotency_key_nothing_is_redeemed(app, api, issue) -> None:
    code = issue(10_000)
    for key in (None, "", "   ", "x" * 256):
        response = _redeem(api, code, 1_000, key)
        assert response.status_code == 400, key
        assert response.json["type"].endswith("/idempotency-key-missing")
        assert "Idempotency-Key" in response.json["detail"]
    assert balance_of(app, code) == 10_000


def test_overdrawing_is_a_409_with_the_balance(app, api, issue) -> None:
    code = issue(1_000)
    _redeem(api, code, 400, "a")
    response = _redeem(api, code, 601, "b")
    assert response.status_code == 409
    assert response.json["type"].endswith("/insufficient-credit")
    assert (response.json["balance"], response.json["currency"]) == (600, "EUR")
    assert "€6.01 asked, €6.00 left" in response.json["detail"]
    assert _redeem(api, code, 600, "b").status_code == 201  # a refused key may be sent again
    assert api.get(f"/api/v1/credits/{code}", as_="integration").json["status"] == "spent"


def test_bad_input_is_a_422_problem(app, api, issue) -> None:
    code = issue(1_000)
    for body in ({"amount": 0, "order_reference": "W1"}, {"amount": "5", "order_reference": "W"},
                 {"amount": 5}, {"amount": 5, "order_reference": ""},
                 {"amount": 5, "order_reference": "W", "currency": "USD"}):
        response = api.post(f"/api/v1/credits/{code}/redemptions", as_="integration",
                            json=body, headers={"Idempotency-Key": "k"})
        assert response.status_code == 422, body
        assert response.json["errors"], body
    assert balance_of(app, code) == 1_000


def test_a_reversal_puts_the_redemption_back_once(app, api, issue) -> None:
    code = issue(5_000)
    spent = _redeem(api, code, 2_000, "a").json
    path = f"/api/v1/credits/{code}/redemptions/{spent['id']}/reversal"
    first = api.post(path, as_="integration", json={"reason": "order W100 cancelled"})
    assert first.status_code == 201
    assert (first.json["amount"], first.json["balance_after"], first.json["redemption_id"]) == (
        2_000, 5_000, spent["id"])
    again = api.post(path, as_="integration", json={"reason": "order W100 cancelled"})
    assert (again.status_code, again.json) == (200, first.json)
    assert balance_of(app, code) == 5_000
    assert api.post(path, as_="integration", json={}).status_code == 422


def test_only_a_redemption_of_that_code_can_be_reversed(app, api, issue) -> None:
    code, other = issue(5_000), issue(5_000)
    spent = _redeem(api, code, 2_000, "a").json
    for target, ident in ((other, spent["id"]), (code, spent["id"] + 100), (code, "abc"),
                          (code, spent["id"] - 1)):  # -1: the issue entry is no redemption
        response = api.post(f"/api/v1/credits/{target}/redemptions/{ident}/reversal",
                            as_="integration", json={"reason": "cancelled"})
        assert response.status_code == 404, (target, ident)
    assert balance_of(app, code) == 3_000 and balance_of(app, other) == 5_000


def test_who_may_read_and_redeem(app, api, issue) -> None:
    code = issue(5_000)
    spent = _redeem(api, code, 1_000, "a").json
    reversal = f"/api/v1/credits/{code}/redemptions/{spent['id']}/reversal"
    assert api.get(f"/api/v1/credits/{code}").status_code == 401
    assert api.get(f"/api/v1/credits/{code}", as_="warehouse").status_code == 403
    for role in ("warehouse", "agent"):
        assert _redeem(api, code, 1_000, "b", as_=role).status_code == 403
        assert api.post(reversal, as_=role, json={"reason": "x"}).status_code == 403
    assert balance_of(app, code) == 4_000


def test_the_contract_is_in_the_openapi_document(api) -> None:
    spec = api.get("/api/v1/openapi.json").json
    redeem = spec["paths"]["/api/v1/credits/{code}/redemptions"]["post"]
    key = next(p for p in redeem["parameters"] if p["name"] == "Idempotency-Key")
    assert key["in"] == "header" and key["required"] is True
    assert {"201", "400", "409", "422"} <= set(redeem["responses"])
    assert "get" in spec["paths"]["/api/v1/credits/{code}"]
    assert "post" in spec["paths"]["/api/v1/credits/{code}/redemptions/{redemption_id}/reversal"]
