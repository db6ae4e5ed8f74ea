"""The catalog API: the store upserts products with variants, idempotently, validated."""

from __future__ import annotations

import pytest

from tests.conftest import order_payload
from tests.exchanges.conftest import shirt, stock_of


def test_a_product_is_created_then_the_same_put_changes_nothing(api, put_product) -> None:
    first = put_product()
    assert first.status_code == 201, first.json
    assert first.json["product_id"] == "shirt-1"
    assert [(v["sku"], v["options"], v["prices"], v["available"])
            for v in first.json["variants"]] == [
        ("SHIRT-M", {"size": "M"}, {"EUR": 2500}, 5), ("SHIRT-L", {"size": "L"}, {"EUR": 2500}, 5),
        ("SHIRT-XL", {"size": "XL"}, {"EUR": 3000}, 5),
        ("SHIRT-S", {"size": "S"}, {"EUR": 2000}, 5)]
    again = put_product()
    assert (again.status_code, again.json) == (200, first.json)
    assert api.get("/api/v1/products/shirt-1", as_="agent").json == first.json


def test_a_put_replaces_the_variants_and_stock_a_dropped_variant_is_no_longer_shown(
        api, put_product) -> None:
    put_product()
    body = shirt(m=1, l_stock=0)
    body["variants"] = body["variants"][:2]
    response = put_product(body=body)
    assert response.status_code == 200
    assert [(v["sku"], v["on_hand"]) for v in response.json["variants"]] == [
        ("SHIRT-M", 1), ("SHIRT-L", 0)]
    assert stock_of(api, "SHIRT-L") == {"on_hand": 0, "reserved": 0, "available": 0}


@pytest.mark.parametrize(("change", "field"), [
    ({"title": ""}, "title"),
    ({"variants": []}, "variants"),
    ({"variants": [{"sku": "X", "title": "X", "prices": {"EURO": 100}, "on_hand": 1}]},
     "variants"),
    ({"variants": [{"sku": "X", "title": "X", "prices": {"EUR": -1}, "on_hand": 1}]},
     "variants"),
    ({"variants": [{"sku": "X", "title": "X", "prices": {"EUR": 100}, "on_hand": -2}]},
     "variants"),
    ({"variants": [{"sku": "X", "title": "X", "prices": {"EUR": "1.00"}, "on_hand": 1}]},
     "variants"),
    ({"variants": [{"sku": "X", "title": "X", "prices": {"EUR": 1}, "on_hand": 1}] * 2},
     "variants"),
])
def test_invalid_products_are_refused_with_the_field_named(api, put_product, change,
                                                           field) -> None:
    response = put_product(body={**shirt(), **change})
    assert response.status_code == 422, response.json
    assert field in str(response.json)
    assert api.get("/api/v1/products/shirt-1", as_="agent").status_code == 404


def test_a_sku_of_another_product_or_a_bad_product_id_is_refused(api, put_product) -> None:
    put_product()
    taken = put_product("shirt-2")
    assert taken.status_code == 422
    assert "SHIRT-M belongs to product shirt-1" in str(taken.json)
    bad = put_product("shirt 2%21")
    assert bad.status_code == 422 and "product_id" in bad.json["errors"]


def test_only_the_integration_writes_the_catalog(api) -> None:
    assert api.call("PUT", "/api/v1/products/shirt-1", as_="agent",
                    json=shirt()).status_code == 403
    assert api.call("PUT", "/api/v1/products/shirt-1", json=shirt()).status_code == 401


def test_order_lines_carry_the_product_id(api) -> None:
    lines = [{"sku": "SHIRT-M", "name": "Shirt", "quantity": 1, "unit_price": 2500,
              "product_id": "shirt-1"}]
    response = api.post("/api/v1/orders", as_="integration",
                        json=order_payload("A1", lines=lines))
    assert response.status_code == 201
    assert response.json["lines"][0]["product_id"] == "shirt-1"
    lines[0]["product_id"] = ""
    assert api.post("/api/v1/orders", as_="integration",
                    json=order_payload("A1", lines=lines)).status_code == 422
