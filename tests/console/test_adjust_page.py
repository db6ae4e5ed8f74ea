"""The return page's "Adjust the payout" form: agents within their limit, admins above it,
errors next to the field, the adjustment shown line by line in the breakdown."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.console import csrf_from, login, state

pytestmark = pytest.mark.usefixtures("resolutions_config")


def send(client: Any, app: Any, rma: str, **fields: Any) -> Any:
    page = client.get(f"/staff/returns/{rma}")
    assert page.status_code == 200
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)),
            "expected_version": str(state(app, rma)[1]), **fields}
    return client.post(f"/staff/returns/{rma}/adjust", data=data)


def test_an_agent_adds_goodwill_and_sees_it_in_the_breakdown(app, client, make_return):
    rma = make_return(items=[{"sku": "JEANS", "quantity": 1, "reason": "doesnt_fit"}])["rma"]
    login(client, "agent")
    page = client.get(f"/staff/returns/{rma}").get_data(as_text=True)
    assert "Adjust the payout" in page and "Add: Goodwill gesture" in page
    done = send(client, app, rma, reason="goodwill:goodwill", amount="12.50",
                note="Parcel was late")
    assert done.status_code == 302
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"Adjusted the payout of {rma}." in page
    assert "Goodwill gesture" in page and "(Parcel was late)" in page and "€92.50" in page


def test_above_the_agent_limit_the_agent_is_told_to_ask_an_admin(app, client, make_return):
    rma = make_return(items=[{"sku": "JEANS", "quantity": 1, "reason": "doesnt_fit"}])["rma"]
    login(client, "agent")
    refused = send(client, app, rma, reason="goodwill:goodwill", amount="20.01")
    assert refused.status_code == 403
    assert "Adjustments above €20.00 need an admin." in refused.get_data(as_text=True)
    bad = send(client, app, rma, reason="deduction:used", amount="twelve")
    assert bad.status_code == 422 and "Enter an amount" in bad.get_data(as_text=True)
    admin = app.test_client()
    login(admin, "admin")
    assert send(admin, app, rma, reason="goodwill:goodwill", amount="20.01").status_code == 302


def test_warehouse_staff_see_no_adjust_form(app, client, make_return):
    rma = make_return()["rma"]
    login(client, "warehouse")
    page = client.get(f"/staff/returns/{rma}").get_data(as_text=True)
    assert "Adjust the payout" not in page
