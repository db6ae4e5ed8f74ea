"""The console's form for a refund made outside Stripe, which the refund-problems page
advises: agents and admins, capped at what the return is still owed, errors next to the
fields (Flask test client; the browser test is in test_browser.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from returns_service.db import db
from returns_service.refunds.models import Refund
from returns_service.returns.models import ReturnEvent
from returns_service.returns.services import get_return
from tests.console.test_roles import refund_failed
from tests.support.console import csrf_from, login, state


def send(client: Any, app: Any, rma: str, **fields: Any) -> Any:
    page = client.get(f"/staff/returns/{rma}/refund/manual")
    assert page.status_code == 200
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)),
            "expected_version": str(state(app, rma)[1]), "reference": "SEPA-7", **fields}
    return client.post(f"/staff/returns/{rma}/refund/manual", data=data)


def test_refund_problems_link_to_the_form_which_records_the_refund(app, client, api,
                                                                   make_return):
    rma = refund_failed(app, api, make_return)
    login(client, "agent")
    problems = client.get("/staff/refunds/problems").get_data(as_text=True)
    assert f'href="/staff/returns/{rma}/refund/manual"' in problems
    form = client.get(f"/staff/returns/{rma}/refund/manual").get_data(as_text=True)
    assert "Still owed on this return: <strong>€25.00</strong>" in form
    assert "admins only" not in form  # agents cannot over-refund: the field is not there
    done = send(client, app, rma, amount="25.00", note="Paid by bank transfer.")
    assert done.status_code == 302
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"Recorded a refund of €25.00 made outside Stripe for {rma}." in page
    with app.app_context():
        ret = get_return(rma)
        manual = db.session.scalar(select(Refund).where(Refund.return_id == ret.id,
                                                        Refund.origin == "manual"))
        assert (ret.status, manual.amount, manual.reference) == ("refunded", 2500, "SEPA-7")


def test_more_than_is_owed_and_bad_amounts_are_shown_next_to_the_field(app, client, api,
                                                                        make_return):
    rma = refund_failed(app, api, make_return)
    login(client, "agent")
    for amount, message in (("100.00", "still owed €25.00"), ("abc", "Enter an amount"),
                            ("2.555", "at most 2 decimals"), ("0", "more than zero"),
                            ("", "Enter the amount paid back")):
        response = send(client, app, rma, amount=amount)
        assert response.status_code == 422, amount
        text = response.get_data(as_text=True)
        assert 'id="amount-error"' in text and message in text, (amount, text)
        assert 'aria-invalid="true"' in text
    # An agent cannot slip an over-refund reason in: the field is ignored for them.
    sneaky = send(client, app, rma, amount="100.00", over_refund_reason="Because")
    assert sneaky.status_code == 422
    assert state(app, rma)[0] == "refund_failed"
    missing = send(client, app, rma, amount="25.00", reference="")
    assert missing.status_code == 422
    assert "Say where the money went" in missing.get_data(as_text=True)


def test_an_admin_may_over_refund_with_a_reason_kept_in_the_history(app, client, api,
                                                                    make_return):
    rma = refund_failed(app, api, make_return)
    login(client, "admin")
    assert "admins only" in client.get(f"/staff/returns/{rma}/refund/manual").get_data(
        as_text=True)
    assert send(client, app, rma, amount="30").status_code == 422
    done = send(client, app, rma, amount="30", over_refund_reason="Goodwill: late parcel")
    assert done.status_code == 302
    with app.app_context():
        ret = get_return(rma)
        assert ret.status == "refunded"
        over = db.session.scalar(select(ReturnEvent).where(ReturnEvent.return_id == ret.id,
                                                           ReturnEvent.kind == "over_refund"))
        assert "Goodwill: late parcel" in over.note and not over.customer_visible


def test_warehouse_staff_may_not_record_refunds(app, client, api, make_return):
    rma = refund_failed(app, api, make_return)
    login(client, "warehouse")
    assert client.get(f"/staff/returns/{rma}/refund/manual").status_code == 403
    assert client.post(f"/staff/returns/{rma}/refund/manual", data={}).status_code in (400, 403)
    assert state(app, rma)[0] == "refund_failed"
