"""Orders over HTTP: idempotent import from the store, staff read, public eligibility."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import order_payload
from tests.support.notify import approve


def test_import_creates_then_updates_the_same_order(api: Any) -> None:
    first = api.post("/api/v1/orders", as_="integration", json=order_payload())
    assert first.status_code == 201
    assert first.json["total"] == 2 * 2500 + 8000 + 3 * 500 + 500
    assert first.json["email"] == "jane@example.com"
    body = order_payload(customer_name="Jane Smith")
    body["lines"][0]["quantity"] = 3
    again = api.post("/api/v1/orders", as_="integration", json=body)
    assert again.status_code == 200
    assert again.json["customer_name"] == "Jane Smith"
    assert [line["quantity"] for line in again.json["lines"]] == [3, 1, 3]
    listed = api.get("/api/v1/orders/A1001", as_="agent").json
    assert listed["customer_name"] == "Jane Smith"
    assert listed["payment_intent"] == "pi_test_A1001"


def test_email_is_matched_without_regard_to_case(api: Any) -> None:
    api.post("/api/v1/orders", as_="integration", json=order_payload(email="Jane@Example.COM"))
    response = api.get("/api/v1/orders/A1001/eligibility", query={"email": "JANE@example.com"})
    assert response.status_code == 200


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"currency": "EURO"}, "currency", "Must be an ISO 4217 currency code, e.g. EUR."),
    ({"email": "not-an-email"}, "email", "Not a valid email address."),
    ({"shipping_total": 4.95}, "shipping_total", "Not a valid integer."),
    ({"lines": []}, "lines", "Length must be between 1 and 500."),
    ({"email": "j" * 250 + "@example.com"}, "email", "Longer than maximum length 254."),
    ({"shipping_total": 10**12}, "shipping_total",
     "Must be greater than or equal to 0 and less than or equal to 999999999999."),
    ({"lines": [{"sku": "TV", "name": "TV", "quantity": 2, "unit_price": 600_000_000_000}]},
     "lines", "The order's total may be at most 999999999999 minor units."),
    ({"placed_at": "2026-03-01T10:00:00"}, "placed_at", "Not a valid aware datetime."),
    ({"payment": {"payment_intent": "ch_123"}}, "payment.payment_intent",
     "Must be a Stripe PaymentIntent id (pi_…)."),
])
def test_invalid_order_is_422_with_a_message_per_field(
        api: Any, change: dict[str, Any], field: str, message: str) -> None:
    response = api.post("/api/v1/orders", as_="integration", json=order_payload(**change))
    assert response.status_code == 422
    assert response.json["errors"][field] == [message]


def test_money_is_integer_minor_units_never_floats(api: Any) -> None:
    body = order_payload()
    body["lines"][0]["unit_price"] = 25.0
    response = api.post("/api/v1/orders", as_="integration", json=body)
    assert response.status_code == 422
    assert response.json["errors"] == {"lines.0.unit_price": ["Not a valid integer."]}


def test_amounts_past_32_bits_are_stored_returned_and_refunded_whole(
        api: Any, make_order: Any, make_return: Any) -> None:
    """IDR has two decimals: Rp 25,000,000.00 is 2,500,000,000 minor units, past 2^31."""
    imported = make_order(currency="IDR", shipping_total=0, lines=[
        {"sku": "PHONE", "name": "Phone", "quantity": 2, "unit_price": 2_500_000_000}])
    assert imported["total"] == 5_000_000_000
    rma = make_return(items=[{"sku": "PHONE", "quantity": 2, "reason": "damaged"}],
                      order=False)["rma"]
    approve(api, rma)
    received = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "PHONE", "quantity": 2, "condition": "damaged"}]})
    assert received.status_code == 200, received.json
    assert received.json["refund"]["items"] == 5_000_000_000
    assert [r["amount"] for r in received.json["refunds"]] == [5_000_000_000]


def test_duplicate_skus_and_delivery_before_order_are_refused(api: Any) -> None:
    body = order_payload(delivered_at="2020-01-01T00:00:00+00:00")
    body["lines"].append(dict(body["lines"][0]))
    response = api.post("/api/v1/orders", as_="integration", json=body)
    assert response.status_code == 422
    assert response.json["errors"] == {
        "lines": ["Each SKU may appear only once per order."],
        "delivered_at": ["Cannot be before placed_at."]}


def test_a_line_with_returns_cannot_be_removed_or_shrunk(api: Any, make_return: Any) -> None:
    make_return(items=[{"sku": "SHIRT", "quantity": 2, "reason": "doesnt_fit"}])
    body = order_payload()
    body["lines"][0]["quantity"] = 1
    response = api.post("/api/v1/orders", as_="integration", json=body)
    assert response.status_code == 422
    assert response.json["errors"] == {
        "lines.0.quantity": ["2 already in returns; quantity cannot be lower."]}
    body = order_payload()
    del body["lines"][0]
    response = api.post("/api/v1/orders", as_="integration", json=body)
    assert response.status_code == 422
    assert response.json["errors"] == {"lines": ["Line SHIRT has returns and cannot be removed."]}


def test_what_refunds_rest_on_cannot_change_once_the_order_has_returns(
        api: Any, make_order: Any, make_return: Any) -> None:
    """Amounts are minor units of the order's currency and refunds go to its payment: a
    re-import changing either (or the price of a line in a return) would pay the wrong sum."""
    make_order()
    assert make_order(currency="JPY", payment={"payment_intent": "pi_other"})["currency"] \
        == "JPY"  # no returns yet: the store may still correct them
    make_order()
    make_return(items=[{"sku": "JEANS", "quantity": 1, "reason": "damaged"}], order=False)

    def reimport(**changes: Any) -> Any:
        return api.post("/api/v1/orders", as_="integration", json=order_payload(**changes))

    refused = reimport(currency="JPY", payment={"payment_intent": "pi_new"})
    assert refused.status_code == 422
    assert set(refused.json["errors"]) == {"currency", "payment.payment_intent"}
    body = order_payload()
    body["lines"][1]["unit_price"] = 80000  # the jeans, in the return
    body["lines"][0]["unit_price"] = 2600  # the shirt, in no return: fine
    priced = api.post("/api/v1/orders", as_="integration", json=body)
    assert priced.status_code == 422
    assert list(priced.json["errors"]) == ["lines.1.unit_price"]
    assert reimport(customer_name="Jane Smith").status_code == 200  # the rest may change


def test_an_order_number_sent_with_spaces_is_the_number_customers_type(
        api: Any, make_order: Any) -> None:
    """CSV and ERP exports pad fields; every lookup trims what the customer types."""
    padded = make_order(" A1001  ", payment={"payment_intent": "pi_test_A1001"})
    assert padded["number"] == "A1001"
    assert api.get("/api/v1/orders/A1001/eligibility",
                   query={"email": "jane@example.com"}).status_code == 200


def test_staff_read_shows_lines_and_returns(api: Any, make_return: Any) -> None:
    rma = make_return()["rma"]
    order = api.get("/api/v1/orders/A1001", as_="warehouse").json
    assert [line["sku"] for line in order["lines"]] == ["SHIRT", "JEANS", "SOCKS"]
    assert [(r["rma"], r["status"]) for r in order["returns"]] == [(rma, "requested")]


def test_eligibility_tells_the_customer_per_line_what_and_why(api: Any, make_order: Any) -> None:
    make_order()
    body = api.get("/api/v1/orders/A1001/eligibility", query={"email": "jane@example.com"}).json
    assert [(x["sku"], x["returnable_quantity"], x["reason"]) for x in body["lines"]] == [
        ("SHIRT", 2, None), ("JEANS", 1, None),
        ("SOCKS", 0, "Final sale: this item cannot be returned.")]
    assert {"code": "damaged", "label": "Arrived damaged", "merchant_fault": True} in body[
        "reasons"]


def test_unknown_order_and_wrong_email_answer_the_same_404(api: Any, make_order: Any) -> None:
    make_order()
    wrong_email = api.get("/api/v1/orders/A1001/eligibility", query={"email": "eve@example.com"})
    unknown = api.get("/api/v1/orders/NOPE/eligibility", query={"email": "jane@example.com"})
    assert wrong_email.status_code == unknown.status_code == 404
    assert wrong_email.json == unknown.json


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("POST", "/api/v1/orders", {"integration", "admin"}),
    ("GET", "/api/v1/orders/A1001", {"integration", "admin", "agent", "warehouse"}),
])
def test_order_endpoints_need_a_token_with_the_right_role(
        api: Any, make_order: Any, method: str, path: str, allowed: set[str]) -> None:
    make_order()
    body = order_payload() if method == "POST" else None
    assert api.call(method, path, json=body).status_code == 401
    bogus = api.call(method, path, json=body, headers={"Authorization": "Bearer rsk_nope"})
    assert bogus.status_code == 401
    assert bogus.headers["WWW-Authenticate"].startswith("Bearer")
    for role in ("admin", "agent", "warehouse", "integration"):
        status = api.call(method, path, as_=role, json=body).status_code
        assert (status < 400) == (role in allowed), (role, status)
        if role not in allowed:
            assert status == 403


@pytest.mark.parametrize("field,value", [
    ("placed_at", "9999-12-31T23:59:59+00:00"),
    ("delivered_at", "9999-12-30T00:00:00-05:00"),
    ("placed_at", "0001-01-01T00:00:00+00:00"),
    ("delivered_at", "2200-01-01T00:00:00+00:00"),
])
def test_implausible_order_dates_are_refused_naming_the_field(api: Any, field: str,
                                                              value: str) -> None:
    """Deadlines are counted from these dates: near year 9999 the arithmetic overflows, so
    eligibility, requests and the console's new-return page would answer 500 later on."""
    response = api.post("/api/v1/orders", as_="integration",
                        json=order_payload(**{field: value}))
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert api.get("/api/v1/orders/A1001", as_="agent").status_code == 404
    eligibility = api.get("/api/v1/orders/A1001/eligibility",
                          query={"email": "jane@example.com"})
    assert eligibility.status_code == 404
