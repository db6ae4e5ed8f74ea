"""The console's Store credit page: an agent finds a customer's codes and their ledgers."""

from __future__ import annotations

from typing import Any

from tests.support.console import login


def _redeem(api: Any, code: str, amount: int, key: str, order: str) -> Any:
    return api.post(f"/api/v1/credits/{code}/redemptions", as_="integration",
                    json={"amount": amount, "order_reference": order},
                    headers={"Idempotency-Key": key})


def test_an_agent_sees_every_code_of_an_email_with_its_ledger(client, api, issue) -> None:
    first = issue(10_895, bonus=1_090)
    spent = issue(2_000, email="Jane@Example.com")
    other = issue(5_000, email="bob@example.com")
    _redeem(api, first, 2_599, "a", "W-7781")
    _redeem(api, spent, 2_000, "b", "W-7790")
    login(client, "agent")
    home = client.get("/staff/", follow_redirects=True).get_data(as_text=True)
    assert 'href="/staff/credits"' in home and ">Store credit<" in home
    page = client.get("/staff/credits?email=JANE@example.com").get_data(as_text=True)
    assert first in page and spent in page and other not in page
    assert "2 credit codes for jane@example.com" in page
    for text in ("€93.86", "active", "spent", "Issued", "Bonus", "Redeemed", "W-7781",
                 "-€25.99", "€10.90", "integration@shop.test"):
        assert text in page, text


def test_no_credit_and_a_mistyped_email_are_said_on_the_page(client, issue) -> None:
    issue(1_000)
    login(client, "agent")
    none = client.get("/staff/credits?email=nobody@example.com")
    assert none.status_code == 200
    assert "No store credit for nobody@example.com." in none.get_data(as_text=True)
    typo = client.get("/staff/credits?email=jane-at-example.com")
    assert typo.status_code == 422
    assert "Enter the customer&#39;s email address" in typo.get_data(as_text=True)
    assert client.get("/staff/credits").status_code == 200  # the empty form


def test_warehouse_staff_cannot_open_the_page_nor_see_it_in_the_nav(client, issue) -> None:
    issue(1_000)
    login(client, "warehouse")
    home = client.get("/staff/", follow_redirects=True).get_data(as_text=True)
    assert ">Store credit<" not in home
    refused = client.get("/staff/credits?email=jane@example.com")
    assert refused.status_code == 403
    assert "RS-" not in refused.get_data(as_text=True)
