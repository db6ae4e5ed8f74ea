"""Headers a browser, proxy or client relies on: personal data is never cached, and a method a
route does not take is a 405 that says which ones it does."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.console import login


def test_console_pages_and_the_csv_export_are_not_stored(app, client, tokens, make_return):
    rma = make_return()["rma"]
    assert client.get("/staff/login").headers["Cache-Control"] == "no-store"
    login(client, "agent")
    for path in ("/staff/", f"/staff/returns/{rma}", "/staff/dashboard.csv"):
        response = client.get(path, follow_redirects=True)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path


def test_api_answers_with_personal_data_are_not_stored(api, make_return):
    rma = make_return()["rma"]
    created = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": "JEANS", "quantity": 1, "reason": "doesnt_fit"}]})
    for response in (created, api.get(f"/api/v1/returns/{rma}", as_="agent"),
                     api.get("/api/v1/orders/A1001", as_="agent"),
                     api.get("/api/v1/returns/R-NOPE", as_="agent")):
        assert response.headers["Cache-Control"] == "no-store"


def test_the_openapi_document_may_be_cached(client):
    assert "no-store" not in client.get("/api/v1/openapi.json").headers.get("Cache-Control", "")


@pytest.mark.parametrize("method,path,allowed", [
    ("DELETE", "/api/v1/returns", {"GET", "POST"}),
    ("PUT", "/api/v1/orders/A1001", {"GET"}),
    ("GET", "/webhooks/stripe", {"POST"}),
    ("PUT", "/staff/login", {"GET", "POST"}),
])
def test_a_405_says_which_methods_are_allowed(client: Any, method, path, allowed):
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}
