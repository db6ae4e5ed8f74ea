"""The customer view: every return, message, refund and CSAT answer of one email across
orders, with a flag for an unusual return rate."""

from __future__ import annotations

from returns_service.conversations.services import post_customer_message
from returns_service.db import db
from returns_service.feedback.services import record_feedback
from returns_service.returns.services import get_return
from tests.support.console import login


def test_customer_view_gathers_every_return_message_refund_and_answer(
        app, api, make_return, tokens):
    first = make_return("A1001")["rma"]
    second = make_return("A1002")["rma"]
    api.post(f"/api/v1/returns/{second}/reject", as_="agent",
             json={"reason": "used", "note": "Worn."})
    with app.app_context():
        post_customer_message(get_return(first), "Is the label free?", channel="web")
        record_feedback(get_return(second), rating=2, comment="Strict policy")
        db.session.commit()

    staff = app.test_client()
    login(staff, "agent")
    page = staff.get("/staff/customers/Jane@Example.com")
    assert page.status_code == 200
    text = page.text
    assert first in text and second in text and "A1002" in text
    assert "Is the label free?" in text
    assert "2/5" in text and "Strict policy" in text
    assert 'data-testid="unusual"' not in text  # 2 orders: too few to judge
    assert 'href="/staff/customers/jane@example.com"' in staff.get(
        f"/staff/returns/{first}").text

    make_return("A1003")
    unusual = staff.get("/staff/customers/jane@example.com").text
    assert "unusual return rate" in unusual  # returns on 3 of 3 orders
    assert staff.get("/staff/customers/nobody@example.com").status_code == 404
    warehouse = app.test_client()
    login(warehouse, "warehouse")
    assert warehouse.get("/staff/customers/jane@example.com").status_code == 403
