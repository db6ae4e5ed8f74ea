"""The store hears of an exchange order by webhook (`exchange.ordered`), signed, once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.exchanges.conftest import exchange
from tests.exchanges.test_exchanges import receive


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = True  # the receiver is on loopback
    return app_config


def test_the_original_arriving_sends_exchange_ordered_once(api, receiver, shirt_order) -> None:
    response = api.post("/api/v1/webhook-endpoints", as_="admin", json={
        "url": receiver.url, "description": "store", "event_types": ["exchange.ordered"]})
    assert response.status_code == 201, response.json
    receiver.secrets.append(response.json["secret"])
    rma = shirt_order()
    exchange(api, rma, "SHIRT-L")
    receive(api, rma)
    events = [r.payload for r in receiver.accepted()]
    assert [e["type"] for e in events] == ["exchange.ordered"]
    data = events[0]["data"]
    assert data["return"]["rma"] == rma
    order_id = api.get("/api/v1/exchange-orders", as_="integration").json[0]["id"]
    assert data["exchange_order"] == {"id": order_id, "sku": "SHIRT-L", "quantity": 1,
                                      "exchanged_from": "SHIRT-M", "difference": 0,
                                      "currency": "EUR"}
