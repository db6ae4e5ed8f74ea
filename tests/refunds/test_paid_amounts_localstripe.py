"""A discounted, taxed order refunded end to end at localstripe: each return pays back its
exact share of what was paid, and all of them together what was paid, never a cent more."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import order_payload

TAX = "8.875"


@pytest.fixture
def app_config(stripe_app_config: dict[str, Any]) -> dict[str, Any]:
    return stripe_app_config


def discounted_taxed(number: str = "A1001", **overrides: Any) -> dict[str, Any]:
    """US order: a 20 % code (3,399 off 16,997) the service allocates over the lines (1,499,
    1,600, 300), sales tax added on the discounted prices, shipping taxed too. Paid: 15,349."""
    payload = order_payload(number, currency="USD", shipping_total=500, **overrides)
    payload["lines"] = [
        {"sku": "SHIRT", "name": "Shirt", "quantity": 3, "unit_price": 2499,
         "tax_lines": [{"rate": TAX, "amount": 532, "name": "NY sales tax"}]},
        {"sku": "JEANS", "name": "Jeans", "quantity": 1, "unit_price": 8000,
         "tax_lines": [{"rate": TAX, "amount": 568, "name": "NY sales tax"}]},
        {"sku": "SOCKS", "name": "Socks", "quantity": 3, "unit_price": 500, "final_sale": True,
         "tax_lines": [{"rate": TAX, "amount": 107, "name": "NY sales tax"}]},
    ]
    payload["discounts"] = [{"code": "SAVE20", "amount": 3399}]
    payload["shipping_tax"] = {"rate": TAX, "amount": 44, "name": "NY sales tax"}
    return payload


def _return(api: Any, items: list[dict[str, Any]]) -> str:
    created = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": sku, "quantity": q, "reason": r} for sku, q, r in items]})
    assert created.status_code == 201, created.json
    rma = created.json["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    received = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": sku, "quantity": q, "condition": "resellable"}
                  for sku, q, _ in items]})
    assert received.status_code == 200, received.json
    return rma


def test_discounted_taxed_order_is_refunded_what_was_paid_at_stripe(api, localstripe):
    intent = localstripe.paid_payment_intent(15349, "USD")
    payload = discounted_taxed()
    payload["payment"] = None
    payload["payments"] = [{"provider": "stripe", "amount": 15349, "payment_intent": intent}]
    imported = api.post("/api/v1/orders", as_="integration", json=payload)
    assert imported.status_code == 201, imported.json
    assert imported.json["total"] == 15349
    assert [line["discount"] for line in imported.json["lines"]] == [1499, 1600, 300]

    first = _return(api, [("SHIRT", 1, "doesnt_fit")])
    shown = api.get(f"/api/v1/returns/{first}", as_="agent").json
    assert shown["status"] == "refunded"
    # A third of the shirts' 6,530 (7,497 - 1,499 + 532 tax), rounded down.
    assert shown["refund"] == {"items": 2176, "restocking_fee": 0, "shipping": 0,
                               "adjustments": 0, "total": 2176, "list_price": 2499,
                               "discount": 500, "tax": 177, "tax_added": 177}

    second = _return(api, [("SHIRT", 2, "doesnt_fit"), ("JEANS", 1, "damaged")])
    shown = api.get(f"/api/v1/returns/{second}", as_="agent").json
    # The last shirts take what the first left (6,530 - 2,176); the jeans 8,000 - 1,600 +
    # 568; the merchant's fault: shipping 500 with its 44 tax.
    assert shown["refund"]["items"] == 4354 + 6968
    assert shown["refund"]["shipping"] == 544
    assert shown["refund"]["total"] == 11866
    # Stripe lists newest first; two refunds made in the same second come in either order.
    assert sorted(r["amount"] for r in localstripe.refunds_for(intent)) == [2176, 11866]
    # Everything returnable came back: the order's total less the final-sale socks' 1,307.
    assert 2176 + 11866 == 15349 - 1307


def test_refunded_tax_per_rate_is_in_the_csv_export(api, localstripe):
    intent = localstripe.paid_payment_intent(15349, "USD")
    payload = discounted_taxed()
    payload["payment"] = {"provider": "stripe", "payment_intent": intent}
    assert api.post("/api/v1/orders", as_="integration", json=payload).status_code == 201
    _return(api, [("JEANS", 1, "damaged")])

    report = api.get("/api/v1/reports/service.csv", as_="agent")
    assert report.status_code == 200, report.data
    rows = report.get_data(as_text=True).splitlines()
    # The jeans' 568 and shipping's 44, at the one rate.
    assert f"refunded_tax[USD {TAX}%].amount_minor,612" in rows
