"""The admins' Personal data page: export a customer's data as a file, erase it after a
confirmation that says what holds it back. Real Chromium for the admin's path; the test
client for who may open it and bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.console import login, token


def test_only_admins_see_and_open_the_page(client: Any, tokens: dict[str, str]) -> None:
    login(client, "agent")
    assert ">Personal data<" not in client.get("/staff/").get_data(as_text=True)
    assert client.get("/staff/personal-data").status_code == 403
    refused = client.post("/staff/personal-data", data={
        "csrf_token": token(client), "email": "jane@example.com", "action": "confirm_erase"})
    assert refused.status_code == 403


def test_bad_or_unknown_emails_get_a_message_on_the_form(client: Any,
                                                         tokens: dict[str, str]) -> None:
    login(client, "admin")
    page = client.get("/staff/personal-data")
    assert page.status_code == 200
    bad = client.post("/staff/personal-data", data={
        "csrf_token": token(client), "email": "no email here", "action": "erase"})
    assert bad.status_code == 422
    assert "Give the customer&#39;s email address" in bad.get_data(as_text=True)
    unknown = client.post("/staff/personal-data", data={
        "csrf_token": token(client), "email": "nobody@example.com", "action": "export"})
    assert unknown.status_code == 404
    assert "No order was placed with this email" in unknown.get_data(as_text=True)


@pytest.mark.browser
def test_admin_exports_then_erases_a_customer_once_nothing_holds_it(
        desk: Any, api: Any, make_return: Any, tmp_path: Any) -> None:
    rma = make_return()["rma"]
    page = desk
    page.goto("/staff/login")
    page.get_by_label("Email").fill("admin@shop.test")
    page.get_by_label("Password").fill("password-admin")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Personal data").click()
    expect(page.get_by_role("heading", name="Personal data")).to_be_visible()

    page.get_by_label("Customer email").fill("Jane@Example.com")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export data").click()
    download.value.save_as(tmp_path / "export.json")
    exported = json.loads((tmp_path / "export.json").read_text())
    assert [r["rma"] for r in exported["returns"]] == [rma]
    assert exported["orders"][0]["customer_name"] == "Jane Doe"

    page.get_by_role("button", name="Erase data…").click()
    expect(page.get_by_role("heading",
                            name="Erase the personal data of jane@example.com?")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(f"Return {rma} is still requested")
    expect(page.get_by_role("button", name="Erase permanently")).to_have_count(0)

    assert api.post(f"/api/v1/returns/{rma}/cancel", as_="agent", json={}).status_code == 200
    page.get_by_role("button", name="Erase data…").click()
    expect(page.get_by_text("1 orders and 1 returns are covered.")).to_be_visible()
    page.get_by_role("button", name="Erase permanently").click()
    expect(page.get_by_text("Personal data erased: 1 returns and 1 orders anonymised.")
           ).to_be_visible()

    page.get_by_label("Customer email").fill("jane@example.com")
    page.get_by_role("button", name="Export data").click()
    expect(page.get_by_role("alert")).to_contain_text("No order was placed with this email")
