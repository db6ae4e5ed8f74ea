"""Shipping tests: the app on the EasyPost fake, orders with a shipping address."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import order_payload
from tests.support.easypost import API_KEY, WEBHOOK_SECRET

CUSTOMER = {"name": "Jane Doe", "street1": "417 Montgomery St", "city": "San Francisco",
            "state": "CA", "zip": "94104", "country": "US", "phone": "4155550100"}


@pytest.fixture
def app_config(app_config: dict[str, Any], easypost_fake: Any, tmp_path: Any) -> dict[str, Any]:
    app_config.update(
        SHIPPING_PROVIDER="easypost", EASYPOST_API_KEY=API_KEY, EASYPOST_API_BASE=easypost_fake.url,
        EASYPOST_WEBHOOK_SECRET=WEBHOOK_SECRET, STORAGE_LOCAL_DIR=str(tmp_path / "files"),
        SHOP_NAME="Demo Shop", WAREHOUSE_STREET1="1 Dock Road", WAREHOUSE_CITY="Reno",
        WAREHOUSE_STATE="NV", WAREHOUSE_ZIP="89501", WAREHOUSE_COUNTRY="US",
        RETURN_POLICY_FILE=None)
    return app_config


def approve_one(api: Any, number: str = "A1001", *,
                address: dict[str, Any] | None = CUSTOMER, reason: str = "doesnt_fit") -> str:
    """Import an order (with or without an address), request a return of two shirts as the
    customer, approve it as an agent; the RMA."""
    payload = order_payload(number)
    if address is not None:
        payload["shipping_address"] = address
    assert api.post("/api/v1/orders", as_="integration", json=payload).status_code == 201
    rma = api.post("/api/v1/returns", json={
        "order_number": number, "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 2, "reason": reason}]}).json["rma"]
    answer = api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    assert answer.status_code == 200, answer.json
    return rma


@pytest.fixture
def approved_return(api: Any) -> Any:
    """approve_one on the test's app."""
    return lambda *args, **kwargs: approve_one(api, *args, **kwargs)
