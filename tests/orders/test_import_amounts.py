"""Order import with discounts, tax and payments: what was paid becomes the order's total;
order-level discounts are allocated by largest remainder; payments must add up."""

from __future__ import annotations

from typing import Any

from tests.conftest import order_payload


def post(api: Any, payload: dict[str, Any]) -> Any:
    return api.post("/api/v1/orders", as_="integration", json=payload)


def test_an_import_without_the_new_fields_keeps_its_total(api):
    answer = post(api, order_payload())
    assert answer.status_code == 201
    assert answer.json["total"] == 15000  # lines 14,500 + shipping 500, as always
    assert answer.json["payments"] == [{"provider": "stripe", "amount": 15000,
                                        "payment_intent": "pi_test_A1001"}]
    assert [line["paid"] for line in answer.json["lines"]] == [5000, 8000, 1500]


def test_order_discount_is_allocated_by_largest_remainder_and_tax_counts(api):
    payload = order_payload(discounts=[{"code": "SAVE", "amount": 1001}],
                            shipping_tax={"rate": "20", "amount": 100})
    payload["lines"][1]["tax_lines"] = [{"rate": "20", "amount": 1600, "name": "VAT"}]
    answer = post(api, payload)
    assert answer.status_code == 201, answer.json
    # 1,001 over 5,000 / 8,000 / 1,500: 345.17, 552.27, 103.55 -> 345, 552, 104.
    assert [line["discount"] for line in answer.json["lines"]] == [345, 552, 104]
    assert answer.json["total"] == 14500 - 1001 + 1600 + 500 + 100


def test_vat_included_adds_nothing_to_the_total(api):
    payload = order_payload()
    payload["lines"][0]["tax_lines"] = [{"rate": "20", "amount": 833, "included": True}]
    assert post(api, payload).json["total"] == 15000


def test_payments_must_add_up_to_the_total(api):
    payload = order_payload(payments=[{"provider": "stripe", "amount": 10000,
                                       "payment_intent": "pi_1"},
                                      {"provider": "gift_card", "amount": 4000}])
    payload.pop("payment")
    refused = post(api, payload)
    assert refused.status_code == 422
    assert refused.content_type == "application/problem+json"
    assert refused.json["errors"]["payments"] == [
        "The payments add up to 14000; the order's total (lines less discounts, plus tax and "
        "shipping) is 15000."]


def test_bad_payments_are_refused_with_their_reasons(api):
    payload = order_payload(payments=[{"provider": "other", "amount": 15000}])
    assert post(api, payload).json["errors"]["payment"] == [
        "Send `payments` or `payment`, not both."]
    payload.pop("payment")
    payload["payments"] = [{"provider": "store_credit", "amount": 15000}]
    assert post(api, payload).json["errors"] == {
        "payments.0.code": ["A store-credit payment needs its credit code."]}
    payload["payments"] = [{"provider": "stripe", "amount": 7500, "payment_intent": "pi_1"},
                           {"provider": "stripe", "amount": 7500, "payment_intent": "pi_2"}]
    assert post(api, payload).json["errors"]["payments"] == [
        "At most one Stripe payment per order."]


def test_a_discount_above_the_line_price_is_refused(api):
    payload = order_payload()
    payload["lines"][0]["discount"] = 5001
    assert post(api, payload).json["errors"] == {
        "lines.0.discount": ["Cannot be more than unit_price x quantity."]}


def test_a_line_in_a_return_keeps_its_discount(api, make_return):
    payload = order_payload()
    payload["lines"][0]["discount"] = 500
    assert post(api, payload).status_code == 201
    make_return(order=False)
    payload["lines"][0]["discount"] = 0
    refused = post(api, payload)
    assert refused.status_code == 422
    assert "discount and tax cannot change" in refused.json["errors"]["lines.0"][0]


def test_payments_cannot_change_once_the_order_has_returns(api, make_return):
    payload = order_payload(payments=[{"provider": "stripe", "amount": 10000,
                                       "payment_intent": "pi_1"},
                                      {"provider": "gift_card", "amount": 5000}])
    payload.pop("payment")
    assert post(api, payload).status_code == 201
    make_return(order=False)
    payload["payments"] = [{"provider": "stripe", "amount": 5000, "payment_intent": "pi_1"},
                           {"provider": "gift_card", "amount": 10000}]
    refused = post(api, payload)
    assert refused.status_code == 422
    assert refused.json["errors"]["payments"] == [
        "The order has returns or refunds on its payments; they cannot change."]
