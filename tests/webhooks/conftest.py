"""Fixtures of the webhook tests: a webhook secret but no Stripe API key, so our own refunds
stay pending (never sent) and the events a test posts are what moves them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.stripe import WEBHOOK_SECRET


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    return app_config


@pytest.fixture
def pending(api: Any, make_return: Any) -> dict[str, Any]:
    """A return received and waiting for its refund of 2,500 EUR (refund row 1, attempt 1)."""
    rma = make_return(items=[{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}])["rma"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    shown = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]}).json
    assert shown["status"] == "refund_pending"
    return {"rma": rma, "refund_id": shown["refunds"][0]["id"], "amount": 2500}
