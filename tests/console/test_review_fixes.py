"""Console pages after the outside review (Flask test client)."""

from __future__ import annotations

import logging
import re

import pytest

from tests.console.test_roles import approved
from tests.support.console import csrf_from, login


def html(response) -> str:
    return response.get_data(as_text=True)


def receive_shirt(client, rma: str, **fields: str):
    page = html(client.get(f"/staff/receiving/{rma}"))
    data = {"csrf_token": csrf_from(page), "expected_version": "2", "items-0-sku": "SHIRT",
            "items-0-quantity": "1", "items-0-condition": "resellable",
            "items-0-restock": "yes", **fields}
    return client.post(f"/staff/receiving/{rma}", data=data, follow_redirects=True)


# --- 14: say what will really happen without Stripe or SMTP ----------------------------------

def test_without_a_stripe_key_receiving_says_the_refund_waits_and_logs_one_warning(
        app, client, api, make_return, caplog):
    rma = approved(api, make_return)
    login(client, "warehouse")
    with caplog.at_level(logging.INFO):
        page = html(receive_shirt(client, rma))
    assert f"Received {rma}. Refund of €25.00 waits until STRIPE_API_KEY is set." in page
    assert "started" not in page
    refund_logs = [r for r in caplog.records if "STRIPE_API_KEY" in r.getMessage()]
    assert len(refund_logs) == 1 and refund_logs[0].levelno == logging.WARNING
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert all(r.exc_info is None for r in caplog.records)  # no traceback for a known state
    assert not any("relay" in r.getMessage() for r in caplog.records)


def test_with_a_stripe_key_receiving_says_the_refund_started(app, client, api, make_return,
                                                             monkeypatch):
    app.config["STRIPE_API_KEY"] = "sk_test_x"
    monkeypatch.setattr("returns_service.outbox.relay._run_in_process", lambda *a: None)
    rma = approved(api, make_return)
    login(client, "warehouse")
    assert f"Received {rma}. Refund of €25.00 started." in html(receive_shirt(client, rma))


def approve_page(client, rma: str):
    page = html(client.get(f"/staff/returns/{rma}"))
    return client.post(f"/staff/returns/{rma}/approve", data={
        "csrf_token": csrf_from(page), "expected_version": "1", "note": ""},
        follow_redirects=True)


def test_without_smtp_approving_says_the_email_waits(app, client, make_return):
    rma = make_return()["rma"]
    login(client, "agent")
    page = html(approve_page(client, rma))
    assert f"Approved {rma}." in page
    assert "The email to the customer waits until SMTP_URL is set." in page
    assert "The customer is told" not in page


def test_with_smtp_approving_says_the_customer_is_told(app, client, make_return, monkeypatch):
    app.config["SMTP_URL"] = "smtp://127.0.0.1:1"
    monkeypatch.setattr("returns_service.outbox.relay._run_in_process", lambda *a: None)
    rma = make_return()["rma"]
    login(client, "agent")
    page = html(approve_page(client, rma))
    assert f"Approved {rma}. The customer is told how to send it back." in page


# --- 15: people read labels, not internal codes ------------------------------------------------

def refund_pending(api, make_return) -> str:
    rma = make_return(items=[{"sku": "SHIRT", "quantity": 1, "reason": "changed_mind"}])["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    received = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={"items": [
        {"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]})
    assert received.status_code == 200
    return rma


def test_dashboard_shows_reason_and_status_labels(client, api, make_return):
    refund_pending(api, make_return)
    login(client, "agent")
    page = html(client.get("/staff/dashboard"))
    assert "<td>Changed my mind</td>" in page  # the reasons table
    assert ">Changed my mind<" in page.split('id="chart-reasons"')[1].split("</svg>")[0]
    assert '<th scope="row">Refund pending</th>' in page  # open returns by age
    assert "changed_mind" not in page and "refund_pending" not in page


def test_console_shows_status_labels_and_the_api_keeps_codes(client, api, make_return):
    rma = refund_pending(api, make_return)
    login(client, "agent")
    detail = html(client.get(f"/staff/returns/{rma}"))
    assert re.search(r'<span class="badge[^"]*">Refund pending</span>', detail)
    assert "Changed my mind" in detail
    assert "refund_pending" not in detail and "changed_mind" not in detail
    queue = html(client.get("/staff/returns", query_string={"status": "all"}))
    assert re.search(r'<span class="badge[^"]*">Refund pending</span>', queue)
    shown = api.get(f"/api/v1/returns/{rma}", as_="agent").json
    assert shown["status"] == "refund_pending"
    assert shown["items"][0]["reason"] == "changed_mind"


# --- 20: one was requested, two were -----------------------------------------------------------

@pytest.mark.parametrize(("requested", "message"), [
    (1, "At most 1 was requested."), (2, "At most 2 were requested.")])
def test_receiving_too_many_says_so_in_good_english(client, api, make_return, requested,
                                                    message):
    rma = make_return(items=[{"sku": "SHIRT", "quantity": requested,
                              "reason": "doesnt_fit"}])["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    login(client, "warehouse")
    page = html(receive_shirt(client, rma, **{"items-0-quantity": "5"}))
    assert f"Shirt: {message}" in page


# --- 25: the users table's actions column and the current page in the staff menu ----------------

def test_users_table_names_its_actions_column(client, tokens):
    login(client, "admin")
    page = html(client.get("/staff/users"))
    assert '<th scope="col"><span class="visually-hidden">Actions</span></th>' in page
    assert "<th></th>" not in page


def test_staff_menu_marks_the_current_page(client, tokens):
    login(client, "agent")
    page = html(client.get("/staff/returns"))
    assert re.search(r'<a href="/staff/returns" aria-current="page">Queue</a>', page)
    assert page.count('aria-current="page"') == 1
    other = html(client.get("/staff/refunds/problems"))
    assert re.search(r'<a href="/staff/refunds/problems" aria-current="page">', other)
    assert other.count('aria-current="page"') == 1
