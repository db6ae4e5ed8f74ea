"""Revenue retained and outstanding credit, the figures merchants offer store credit for."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from returns_service.credits.models import CreditCode
from returns_service.credits.services import redeem
from returns_service.db import db

pytestmark = pytest.mark.usefixtures("resolutions_config")

PERIOD = {"from": "2026-03-02", "to": "2026-03-09"}


def settle(api: Any, number: str, sku: str, resolution: str) -> None:
    rma = api.post("/api/v1/returns", json={
        "order_number": number, "email": "jane@example.com", "resolution": resolution,
        "items": [{"sku": sku, "quantity": 1, "reason": "doesnt_fit"}]}).json["rma"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": sku, "quantity": 1, "condition": "resellable"}]})


def test_revenue_retained_and_outstanding_credit_per_currency(app, api, make_order,
                                                              frozen_now):
    make_order("A1001")
    make_order("A1002")
    settle(api, "A1001", "JEANS", "store_credit")  # €80 credited (+ €8 bonus)
    settle(api, "A1002", "SHIRT", "refund")  # €25 refunded
    report = api.get("/api/v1/reports/service", as_="agent", query=PERIOD).json
    assert report["store_credit"] == {"by_currency": [{
        "currency": "EUR", "credit_issued": 8000, "value_returned": 10500,
        "exchanged_value": 0, "revenue_retained_pct": 76.2, "outstanding": 8800}]}
    [week] = report["weekly"]
    assert week["store_credit"] == [{"currency": "EUR", "credit_issued": 8000,
                                     "value_returned": 10500, "exchanged_value": 0,
                                     "revenue_retained_pct": 76.2}]
    with app.app_context():
        code = db.session.scalars(select(CreditCode)).one().code
        redeem(db.session, code, amount=3000, order_reference="W-1", idempotency_key="k1")
        db.session.commit()
    later = api.get("/api/v1/reports/service", as_="agent", query=PERIOD).json
    assert later["store_credit"]["by_currency"][0]["outstanding"] == 5800


def test_no_credit_no_figures(api):
    report = api.get("/api/v1/reports/service", as_="agent", query=PERIOD).json
    assert report["store_credit"] == {"by_currency": []}
