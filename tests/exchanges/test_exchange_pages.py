"""Staff see exchanges: the receiving screen tells the packer what to ship after the parcel,
and the return page shows the exchange, its difference and its exchange order."""

from __future__ import annotations

from tests.exchanges.conftest import exchange
from tests.exchanges.test_exchanges import receive
from tests.support.console import login


def test_the_receiving_screen_says_which_sku_to_ship_after_this(client, api,
                                                                shirt_order) -> None:
    rma = shirt_order()
    exchange(api, rma, "SHIRT-L")
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    login(client, "warehouse")
    page = client.get(f"/staff/receiving/{rma}").get_data(as_text=True)
    assert "Exchange: ship SHIRT-L after this." in page


def test_the_return_page_shows_the_exchange_and_its_order(client, api, shirt_order) -> None:
    rma = shirt_order()
    exchange(api, rma, "SHIRT-S")
    login(client, "agent")
    before = client.get(f"/staff/returns/{rma}").get_data(as_text=True)
    assert "SHIRT-M → SHIRT-S" in before and "€5.00 back" in before
    assert "when the original arrives" in before
    receive(api, rma)
    order_id = api.get("/api/v1/exchange-orders", as_="integration").json[0]["id"]
    api.post(f"/api/v1/exchange-orders/{order_id}/shipped", as_="integration",
             json={"tracking_number": "1Z42"})
    after = client.get(f"/staff/returns/{rma}").get_data(as_text=True)
    assert f"#{order_id} · shipped · tracking 1Z42" in after
