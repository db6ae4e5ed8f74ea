"""SQL statements per request must not grow with the size of the answer (no N+1)."""

from __future__ import annotations

from typing import Any

import pytest

from returns_service.db import db
from tests.reliability.sqlcount import count_queries


def _orders_with_returns(api: Any, make_order: Any, count: int, start: int = 0) -> list[str]:
    rmas = []
    for n in range(start, start + count):
        number = f"Q{n:04d}"
        make_order(number)
        body = {"order_number": number, "email": "jane@example.com",
                "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"},
                          {"sku": "JEANS", "quantity": 1, "reason": "damaged"}]}
        response = api.post("/api/v1/returns", json=body)
        assert response.status_code == 201, response.json
        rmas.append(response.json["rma"])
    return rmas


def _queries(app: Any, api: Any, path: str, **kw: Any) -> int:
    with app.app_context():
        engine = db.engine
    # The token's first use in a minute also records it (one UPDATE): not what is measured.
    api.get(path, as_="agent", **kw)
    with count_queries(engine) as log:
        response = api.get(path, as_="agent", **kw)
    assert response.status_code == 200, response.json
    return log.count


def test_staff_list_sends_the_same_number_of_queries_for_1_and_50_returns(app, api, make_order):
    rmas = _orders_with_returns(api, make_order, 1)
    # A received return has a refund row: the list must batch those too.
    assert api.post(f"/api/v1/returns/{rmas[0]}/approve", as_="agent", json={}).status_code == 200
    assert api.post(f"/api/v1/returns/{rmas[0]}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]}).status_code == 200
    one = _queries(app, api, "/api/v1/returns", query={"per_page": 100})
    rmas += _orders_with_returns(api, make_order, 49, start=1)
    for rma in rmas[1:10]:
        api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    listing = api.get("/api/v1/returns", as_="agent", query={"per_page": 100})
    assert listing.json["total"] == 50 and len(listing.json["items"]) == 50
    fifty = _queries(app, api, "/api/v1/returns", query={"per_page": 100})
    assert fifty == one, f"1 return: {one} queries, 50 returns: {fifty}"


@pytest.mark.parametrize("path", ["/api/v1/returns/{rma}", "/api/v1/returns/{rma}/events",
                                  "/api/v1/orders/{number}"])
def test_detail_endpoints_do_not_grow_with_items_or_events(app, api, make_order, path):
    small = _orders_with_returns(api, make_order, 1)[0]
    # Both received (a return without refunds is shown with one query fewer): one item
    # in this parcel, two in the other.
    api.post(f"/api/v1/returns/{small}/approve", as_="agent", json={})
    api.post(f"/api/v1/returns/{small}/receive", as_="warehouse", json={"items": [
        {"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]})
    before = _queries(app, api, path.format(rma=small, number="Q0000"))
    big = _orders_with_returns(api, make_order, 1, start=1)[0]
    api.post(f"/api/v1/returns/{big}/approve", as_="agent", json={})
    api.post(f"/api/v1/returns/{big}/receive", as_="warehouse", json={"items": [
        {"sku": "SHIRT", "quantity": 1, "condition": "resellable"},
        {"sku": "JEANS", "quantity": 1, "condition": "damaged"}]})
    after = _queries(app, api, path.format(rma=big, number="Q0001"))
    assert after == before, (before, after)


def test_list_counts_exactly_up_to_the_limit_then_says_more(app, api, make_order, monkeypatch):
    from returns_service.api import returns as returns_api

    _orders_with_returns(api, make_order, 4)
    monkeypatch.setattr(returns_api, "COUNT_LIMIT", 3)
    capped = api.get("/api/v1/returns", as_="agent").json
    assert (capped["total"], capped["total_capped"], len(capped["items"])) == (3, True, 4)
    monkeypatch.setattr(returns_api, "COUNT_LIMIT", 4)
    exact = api.get("/api/v1/returns", as_="agent").json
    assert (exact["total"], exact["total_capped"]) == (4, False)
    one = api.get("/api/v1/returns", as_="agent", query={"q": exact["items"][0]["rma"]}).json
    assert (one["total"], one["total_capped"], one["items"][0]["rma"]) == (
        1, False, exact["items"][0]["rma"])
    by_order = api.get("/api/v1/returns", as_="agent", query={"q": "Q0002"}).json
    assert [r["order_number"] for r in by_order["items"]] == ["Q0002"]


def test_a_change_answers_from_what_it_read_before_commit(app, api, make_return):
    """The answer to a receipt (the refund just started included) is read before the commit;
    turning it into JSON afterwards must not reload a row, or every change would pay a
    query per refund shown."""
    from returns_service.api.present import return_dict
    from returns_service.returns.schemas import ReturnOut
    from returns_service.returns.services import receive_return
    from workflows.returns import Actor

    rma = make_return()["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    with app.app_context():
        ret = receive_return(rma, [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}],
                             Actor("staff", 1, "warehouse@shop.test"))
        answer = return_dict(ret)
        db.session.commit()
        with count_queries(db.engine) as log:
            shown = ReturnOut().dump(answer)
        assert log.count == 0, log
    assert [(r["attempt"], r["amount"], r["currency"]) for r in shown["refunds"]] == [
        (1, 2500, "EUR")]
    assert shown["status"] == "refund_pending" and shown["refund"]["total"] == 2500
