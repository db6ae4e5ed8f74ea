"""`same_product_only = false`: a line may be exchanged for another product's variant, even a
line imported without a product_id."""

from __future__ import annotations

from typing import Any

import pytest

from tests.exchanges.conftest import EXCHANGE_POLICY, exchange
from tests.exchanges.test_exchanges import stock_of_product


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    with open(app_config["RETURN_POLICY_FILE"], "w") as policy:
        policy.write(EXCHANGE_POLICY.replace("same_product_only = true",
                                             "same_product_only = false"))
    return app_config


def test_any_product_when_the_policy_allows_it(api, put_product, shirt_order) -> None:
    rma = shirt_order()
    assert put_product("polo-1", {"title": "Polo", "variants": [
        {"sku": "POLO-M", "title": "Polo, size M", "options": {"size": "M"},
         "prices": {"EUR": 2500}, "on_hand": 2}]}).status_code == 201
    response = exchange(api, rma, "POLO-M")
    assert response.status_code == 201, response.json
    assert (response.json["to_sku"], response.json["difference"]) == ("POLO-M", 0)
    assert stock_of_product(api, "polo-1", "POLO-M")["reserved"] == 1
    # The jeans line has no product_id: with any product allowed, it may be swapped too.
    created = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": "JEANS", "quantity": 1, "reason": "doesnt_fit"}]})
    assert created.status_code == 201, created.json
    jeans = api.post(f"/api/v1/returns/{created.json['rma']}/exchanges", as_="agent",
                     json={"sku": "JEANS", "to_sku": "SHIRT-S"})
    assert jeans.status_code == 201, jeans.json
    assert jeans.json["difference"] == 2000 - 8000

