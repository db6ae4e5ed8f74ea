"""Every console action checks the role on the server: 403 and nothing changes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from returns_service.db import db
from returns_service.payments.stripe import PermanentPaymentError
from returns_service.refunds.models import Refund
from returns_service.refunds.services import record_outcome
from returns_service.returns.models import Return
from returns_service.staff.models import StaffUser
from tests.support.console import login, state, token

TWO_ITEMS = [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"},
             {"sku": "JEANS", "quantity": 1, "reason": "damaged"}]


def approved(api, make_return) -> str:
    rma = make_return()["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    return rma


def refund_failed(app, api, make_return) -> str:
    """A return whose first refund attempt Stripe refused."""
    rma = approved(api, make_return)
    assert api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={"items": [
        {"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]}).status_code == 200
    with app.app_context():
        refund_id = db.session.scalar(select(Refund.id).join(Refund.return_)
                                      .where(Refund.return_.has(rma=rma)))
        record_outcome(refund_id, error=PermanentPaymentError(
            "charge_for_pending_refund_disputed", "The charge is disputed."))
    assert state(app, rma)[0] == "refund_failed"
    return rma


def _version(app, rma):
    return str(state(app, rma)[1])


DECISIONS = {
    "approve": lambda v: {"expected_version": v, "note": ""},
    "reject": lambda v: {"expected_version": v, "reason": "used", "note": "Worn."},
    "cancel": lambda v: {"expected_version": v, "note": ""},
}


@pytest.mark.parametrize("action", sorted(DECISIONS))
def test_warehouse_cannot_decide(app, client, api, make_return, action):
    rma = make_return()["rma"]
    login(client, "warehouse")
    before = state(app, rma)
    response = client.post(f"/staff/returns/{rma}/{action}",
                           data={"csrf_token": token(client), **DECISIONS[action](before[1])})
    assert response.status_code == 403
    assert "Not allowed for your role" in response.get_data(as_text=True)
    assert state(app, rma) == before == ("requested", 1)


@pytest.mark.parametrize("action", sorted(DECISIONS))
@pytest.mark.parametrize("role", ["agent", "admin"])
def test_agents_and_admins_can_decide(app, client, make_return, action, role):
    rma = make_return()["rma"]
    login(client, role)
    response = client.post(f"/staff/returns/{rma}/{action}",
                           data={"csrf_token": token(client), **DECISIONS[action](1)})
    assert response.status_code == 302
    assert state(app, rma)[0] == {"approve": "approved", "reject": "rejected",
                                  "cancel": "cancelled"}[action]


def test_warehouse_cannot_retry_a_refund(app, client, api, make_return):
    rma = refund_failed(app, api, make_return)
    login(client, "warehouse")
    before = state(app, rma)
    response = client.post(f"/staff/returns/{rma}/retry-refund",
                           data={"csrf_token": token(client), "expected_version": before[1]})
    assert response.status_code == 403
    assert state(app, rma) == before
    assert client.get("/staff/refunds/problems").status_code == 403


def receive_data(csrf, version):
    return {"csrf_token": csrf, "expected_version": version,
            "items-0-sku": "SHIRT", "items-0-quantity": "1", "items-0-condition": "resellable",
            "items-0-restock": "yes"}


def test_agent_cannot_receive(app, client, api, make_return):
    rma = approved(api, make_return)
    login(client, "agent")
    before = state(app, rma)
    response = client.post(f"/staff/receiving/{rma}", data=receive_data(token(client),
                                                                          before[1]))
    assert response.status_code == 403
    assert state(app, rma) == before == ("approved", 2)
    assert client.get(f"/staff/receiving/{rma}").status_code == 403
    assert client.get("/staff/receiving?rma=" + rma).status_code == 403


@pytest.mark.parametrize("role", ["warehouse", "admin"])
def test_warehouse_and_admin_can_receive(app, client, api, make_return, role):
    rma = approved(api, make_return)
    login(client, role)
    response = client.post(f"/staff/receiving/{rma}", data=receive_data(token(client), 2))
    assert response.status_code == 302
    assert state(app, rma)[0] == "refund_pending"


def test_warehouse_cannot_create_returns_for_customers(app, client, make_order):
    make_order("A1001")
    login(client, "warehouse")
    assert client.get("/staff/returns/new?order_number=A1001").status_code == 403
    response = client.post("/staff/returns/new", data={
        "csrf_token": token(client), "order_number": "A1001", "email": "", "channel": "phone",
        "items-0-sku": "SHIRT", "items-0-quantity": "1", "items-0-reason": "doesnt_fit"})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Return)) == 0


@pytest.mark.parametrize("role", ["agent", "warehouse"])
def test_only_admins_manage_users(app, client, tokens, role):
    login(client, role)
    csrf = token(client)
    assert client.get("/staff/users").status_code == 403
    created = client.post("/staff/users", data={
        "csrf_token": csrf, "email": "new@shop.test", "role": "admin",
        "password": "a-long-password"})
    assert created.status_code == 403
    with app.app_context():
        agent_id = db.session.scalar(select(StaffUser.id).where(
            StaffUser.email == "admin@shop.test"))
    disabled = client.post(f"/staff/users/{agent_id}/active", data={"csrf_token": csrf})
    assert disabled.status_code == 403
    with app.app_context():
        emails = set(db.session.scalars(select(StaffUser.email).where(StaffUser.active)))
    assert "new@shop.test" not in emails and "admin@shop.test" in emails


def test_warehouse_does_not_see_the_queue_but_may_read_a_return(client, make_return):
    rma = make_return()["rma"]
    login(client, "warehouse")
    assert client.get("/staff/returns").status_code == 403
    page = client.get(f"/staff/returns/{rma}").get_data(as_text=True)
    assert rma in page
    assert ">Approve<" not in page and ">Reject<" not in page
