"""Fixtures for exchanges: a policy offering them, a shirt in three sizes, an order of it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import order_payload

EXCHANGE_POLICY = """
[exchanges]
enabled = true
reasons = ["doesnt_fit"]
same_product_only = true
upgrades_allowed = true
"""


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    path = tmp_path / "policy.toml"
    path.write_text(EXCHANGE_POLICY)
    app_config["RETURN_POLICY_FILE"] = str(path)
    return app_config


def shirt(*, m: int = 5, l_stock: int = 5, xl: int = 5, xl_price: int = 3000) -> dict[str, Any]:
    """The shirt in M, L (same price), XL (dearer) and S (cheaper)."""
    def variant(size: str, stock: int, price: int) -> dict[str, Any]:
        return {"sku": f"SHIRT-{size}", "title": f"Shirt, size {size}",
                "options": {"size": size}, "prices": {"EUR": price}, "on_hand": stock}
    return {"title": "Shirt", "variants": [variant("M", m, 2500), variant("L", l_stock, 2500),
                                           variant("XL", xl, xl_price),
                                           variant("S", 5, 2000)]}


@pytest.fixture
def put_product(api: Any) -> Any:
    def put(product_id: str = "shirt-1", body: dict[str, Any] | None = None) -> Any:
        return api.call("PUT", f"/api/v1/products/{product_id}", as_="integration",
                        json=body if body is not None else shirt())
    return put


@pytest.fixture
def shirt_order(api: Any, put_product: Any) -> Any:
    """Put the shirt in the catalog (stock per size as given) and import order `number` of
    one size-M shirt (€25) and jeans; returns the RMA of a return of the shirt."""
    def make(number: str = "A1001", *, reason: str = "doesnt_fit", **stock: Any) -> str:
        assert put_product(body=shirt(**stock)).status_code in (200, 201)
        lines = [{"sku": "SHIRT-M", "name": "Shirt, size M", "quantity": 1,
                  "unit_price": 2500, "product_id": "shirt-1"},
                 {"sku": "JEANS", "name": "Jeans", "quantity": 1, "unit_price": 8000}]
        response = api.post("/api/v1/orders", as_="integration",
                            json=order_payload(number, lines=lines))
        assert response.status_code == 201, response.json
        created = api.post("/api/v1/returns", json={
            "order_number": number, "email": "jane@example.com",
            "items": [{"sku": "SHIRT-M", "quantity": 1, "reason": reason}]})
        assert created.status_code == 201, created.json
        return created.json["rma"]
    return make


def exchange(api: Any, rma: str, to_sku: str) -> Any:
    return api.post(f"/api/v1/returns/{rma}/exchanges", as_="agent",
                    json={"sku": "SHIRT-M", "to_sku": to_sku})


def stock_of(api: Any, sku: str) -> dict[str, int]:
    product = api.get("/api/v1/products/shirt-1", as_="agent").json
    variant = next(v for v in product["variants"] if v["sku"] == sku)
    return {k: variant[k] for k in ("on_hand", "reserved", "available")}
