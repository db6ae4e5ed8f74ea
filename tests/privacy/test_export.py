"""A customer's export (GDPR access): every domain's data about the email, in one JSON."""

from __future__ import annotations

from typing import Any

import pytest

from tests.privacy.customer import EMAIL, NAME, PHONE, seed_customer
from tests.reports.history import policy_file


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    app_config["RETURN_POLICY_FILE"] = policy_file(tmp_path)
    app_config["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = True
    app_config["STORAGE_LOCAL_DIR"] = str(tmp_path / "files")
    return app_config


def test_the_export_holds_every_domains_data_about_the_customer(
        app: Any, api: Any, make_order: Any) -> None:
    rmas = seed_customer(app, api, make_order)

    export = api.post("/api/v1/personal-data/exports", as_="admin",
                      json={"email": " Jane@Example.com "})

    assert export.status_code == 200
    data = export.json
    assert data["email"] == EMAIL
    assert {o["number"] for o in data["orders"]} == {f"A100{n}" for n in range(1, 7)}
    assert {o["customer_name"] for o in data["orders"]} == {NAME}
    assert {r["rma"] for r in data["returns"]} == {rmas[f"R{n}"] for n in range(1, 7)}
    assert [m["body"] for m in data["conversations"]["messages"]] == [
        f"Hello, {NAME} here, call {PHONE}."]
    assert [p["phone"] for p in data["conversations"]["sms_phones"]] == [PHONE]
    assert [(r["rma"], r["status"]) for r in data["refunds"]] == [(rmas["R1"], "succeeded")]
    assert [(c["code"], c["balance"]) for c in data["credits"]] == [(rmas["credit"], 1000)]
    assert f"Signed, {NAME}" in [f["comment"] for f in data["feedback"]]
    assert [s["carrier"] for s in data["shipping"]] == ["DHL"]
    assert [p["file_name"] for p in data["photos"]] == ["Jane Doe parcel.jpg"]
    assert data["notifications"] and {n["to"] for n in data["notifications"]} == {EMAIL}
    assert data["webhook_deliveries"] and all(
        d["payload"]["data"]["return"]["customer_email"] == EMAIL
        for d in data["webhook_deliveries"] if "return" in d["payload"]["data"])
