"""Exchanges end to end through the API: stock reserved on request and released when the
return ends, the new item ordered once when the original arrives (not refunded), shipped
with a tracking number and the customer emailed."""

from __future__ import annotations

from sqlalchemy import select

from returns_service.db import db
from returns_service.notifications.models import Notification
from tests.exchanges.conftest import exchange, shirt, stock_of


def receive(api, rma: str, *, items=None):
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    response = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": items or [{"sku": "SHIRT-M", "quantity": 1, "condition": "resellable"}]})
    assert response.status_code == 200, response.json
    return response.json


def test_an_equal_price_size_swap_holds_one_l_and_pays_nothing(api, shirt_order) -> None:
    rma = shirt_order()
    response = exchange(api, rma, "SHIRT-L")
    assert response.status_code == 201, response.json
    assert {k: response.json[k] for k in ("from_sku", "to_sku", "status", "original_value",
                                          "new_price", "difference")} == {
        "from_sku": "SHIRT-M", "to_sku": "SHIRT-L", "status": "requested",
        "original_value": 2500, "new_price": 2500, "difference": 0}
    assert stock_of(api, "SHIRT-L") == {"on_hand": 5, "reserved": 1, "available": 4}
    again = exchange(api, rma, "SHIRT-L")  # the same request twice holds one unit
    assert again.status_code == 201 and stock_of(api, "SHIRT-L")["reserved"] == 1
    other = exchange(api, rma, "SHIRT-XL")
    assert other.status_code == 409 and other.json["type"].endswith("/exchange-conflict")


def test_the_stores_put_sets_on_hand_and_keeps_our_reservations(api, shirt_order,
                                                                 put_product) -> None:
    rma = shirt_order()
    exchange(api, rma, "SHIRT-L")
    put_product(body=shirt(l_stock=2))
    assert stock_of(api, "SHIRT-L") == {"on_hand": 2, "reserved": 1, "available": 1}


def test_an_upgrade_waits_for_payment(api, shirt_order) -> None:
    rma = shirt_order()
    response = exchange(api, rma, "SHIRT-XL")
    assert response.status_code == 201
    assert (response.json["status"], response.json["difference"]) == ("awaiting_payment", 500)


def test_out_of_stock_variants_and_other_products_cannot_be_had(api, shirt_order) -> None:
    rma = shirt_order(l_stock=0)
    gone = exchange(api, rma, "SHIRT-L")
    assert gone.status_code == 409 and gone.json["type"].endswith("/out-of-stock")
    assert stock_of(api, "SHIRT-L") == {"on_hand": 0, "reserved": 0, "available": 0}
    for sku in ("JEANS", "SHIRT-M", "NOPE"):
        assert exchange(api, rma, sku).status_code == 422


def test_a_reason_the_policy_does_not_exchange_is_refused(api, shirt_order) -> None:
    rma = shirt_order(reason="damaged")
    response = exchange(api, rma, "SHIRT-L")
    assert response.status_code == 422 and "cannot be exchanged" in str(response.json)
    assert stock_of(api, "SHIRT-L")["reserved"] == 0


def test_rejecting_or_cancelling_the_return_gives_the_stock_back(api, shirt_order) -> None:
    first, second = shirt_order("A1"), shirt_order("A2")
    exchange(api, first, "SHIRT-L")
    exchange(api, second, "SHIRT-L")
    assert stock_of(api, "SHIRT-L")["reserved"] == 2
    assert api.post(f"/api/v1/returns/{first}/reject", as_="agent",
                    json={"reason": "other"}).status_code == 200
    assert api.post(f"/api/v1/returns/{second}/cancel", as_="agent",
                    json={}).status_code == 200
    assert stock_of(api, "SHIRT-L") == {"on_hand": 5, "reserved": 0, "available": 5}


def test_the_original_arriving_orders_the_new_item_once_and_refunds_nothing(
        app, api, shirt_order) -> None:
    rma = shirt_order()
    exchange(api, rma, "SHIRT-L")
    received = receive(api, rma)
    assert received["status"] == "closed" and received["refunds"] == []
    pending = api.get("/api/v1/exchange-orders", as_="integration",
                      query={"status": "pending"}).json
    assert [(o["rma"], o["sku"], o["exchanged_from"], o["quantity"]) for o in pending] == [
        (rma, "SHIRT-L", "SHIRT-M", 1)]
    order_id = pending[0]["id"]
    shipped = api.post(f"/api/v1/exchange-orders/{order_id}/shipped", as_="integration",
                       json={"tracking_number": "1Z999", "carrier": "UPS"})
    assert shipped.status_code == 200, shipped.json
    assert (shipped.json["status"], shipped.json["tracking_number"]) == ("shipped", "1Z999")
    again = api.post(f"/api/v1/exchange-orders/{order_id}/shipped", as_="integration",
                     json={"tracking_number": "1Z999"})
    assert again.status_code == 200
    other = api.post(f"/api/v1/exchange-orders/{order_id}/shipped", as_="integration",
                     json={"tracking_number": "OTHER"})
    assert other.status_code == 422
    assert api.get("/api/v1/exchange-orders", as_="integration").json == []
    assert stock_of(api, "SHIRT-L") == {"on_hand": 4, "reserved": 0, "available": 4}
    with app.app_context():
        emails = db.session.scalars(select(Notification).where(
            Notification.step == "exchange_shipped")).all()
        assert [(e.to_email, e.context["tracking_number"]) for e in emails] == [
            ("jane@example.com", "1Z999")]
    # Staff see the email on the return's timeline, like the return's own emails.
    events = api.get(f"/api/v1/returns/{rma}/events", as_="agent").json
    notes = [e.get("note") for e in (events if isinstance(events, list) else events["events"])]
    assert f"Email queued: Your exchange for return {rma} is on its way" in notes


def test_an_unpaid_upgrade_at_receipt_is_dropped_and_the_line_refunded(api, shirt_order) -> None:
    rma = shirt_order()
    exchange(api, rma, "SHIRT-XL")
    received = receive(api, rma)
    assert [r["amount"] for r in received["refunds"]] == [2500]
    assert api.get("/api/v1/exchange-orders", as_="integration").json == []
    assert stock_of(api, "SHIRT-XL")["reserved"] == 0


def test_exchange_orders_are_for_the_store_and_the_warehouse(api) -> None:
    assert api.get("/api/v1/exchange-orders", as_="agent").status_code == 403
    assert api.get("/api/v1/exchange-orders", as_="integration",
                   query={"status": "lost"}).status_code == 422
    assert api.post("/api/v1/exchange-orders/999/shipped", as_="integration",
                    json={"tracking_number": "X"}).status_code == 404
    assert api.post("/api/v1/exchange-orders/999/shipped", as_="integration",
                    json={}).status_code == 422


def test_a_cheaper_variant_refunds_the_difference_once_with_the_return(api, shirt_order) -> None:
    rma = shirt_order()
    response = exchange(api, rma, "SHIRT-S")
    assert (response.json["status"], response.json["difference"]) == ("requested", -500)
    expected = api.get(f"/api/v1/returns/{rma}", as_="agent").json
    assert expected["expected_refund"]["total"] == 500
    received = receive(api, rma)
    assert [r["amount"] for r in received["refunds"]] == [500]
    assert [o["sku"] for o in api.get("/api/v1/exchange-orders", as_="integration").json] == [
        "SHIRT-S"]


def test_same_product_only_refuses_another_product(api, put_product, shirt_order) -> None:
    rma = shirt_order()
    put_product("polo-1", {"title": "Polo", "variants": [
        {"sku": "POLO-M", "title": "Polo, size M", "options": {"size": "M"},
         "prices": {"EUR": 2500}, "on_hand": 2}]})
    response = exchange(api, rma, "POLO-M")
    assert response.status_code == 422, response.json


def stock_of_product(api, product_id: str, sku: str) -> dict[str, int]:
    product = api.get(f"/api/v1/products/{product_id}", as_="agent").json
    variant = next(v for v in product["variants"] if v["sku"] == sku)
    return {k: variant[k] for k in ("on_hand", "reserved", "available")}
