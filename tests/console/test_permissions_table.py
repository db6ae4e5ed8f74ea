"""Who may do what is one table (staff.permissions): the API, the console's checks and the
buttons a page shows all follow it, so changing a row changes every door at once."""

from __future__ import annotations

from typing import Any

import pytest

from returns_service.staff import permissions
from tests.support.console import login, state, token


@pytest.fixture
def warehouse_may_approve(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(permissions.PERMISSIONS, "return.approve", ("agent", "warehouse"))
    monkeypatch.setitem(permissions.PERMISSIONS, "console.sign_in", ("agent", "warehouse"))


def test_without_the_row_warehouse_sees_no_approve_button_and_gets_403(
        app: Any, api: Any, client: Any, make_return: Any) -> None:
    rma = make_return()["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="warehouse",
                    json={}).status_code == 403
    login(client, "warehouse")
    page = client.get(f"/staff/returns/{rma}").get_data(as_text=True)
    assert ">Approve<" not in page
    refused = client.post(f"/staff/returns/{rma}/approve",
                          data={"csrf_token": token(client), "expected_version": "1"})
    assert refused.status_code == 403 and state(app, rma)[0] == "requested"


def test_one_row_lets_warehouse_approve_through_the_api_and_the_console(
        app: Any, api: Any, client: Any, make_return: Any, warehouse_may_approve: None) -> None:
    by_api = make_return("P1")["rma"]
    assert api.post(f"/api/v1/returns/{by_api}/approve", as_="warehouse",
                    json={}).status_code == 200
    by_console = make_return("P2")["rma"]
    login(client, "warehouse")
    page = client.get(f"/staff/returns/{by_console}").get_data(as_text=True)
    assert ">Approve<" in page
    done = client.post(f"/staff/returns/{by_console}/approve",
                       data={"csrf_token": token(client), "expected_version": "1"})
    assert done.status_code == 302 and state(app, by_console)[0] == "approved"


def test_every_action_the_code_checks_is_in_the_table() -> None:
    import pathlib
    import re

    root = pathlib.Path(permissions.__file__).resolve().parents[1]
    used = set()
    for path in root.rglob("*"):
        if path.suffix in (".py", ".html"):
            used |= set(re.findall(r'(?:require|permission_required|user_may\([^,]+,|may)\('
                                   r'"([a-z_.]+)"\)', path.read_text()))
            used |= set(re.findall(r'(?:user_may|may)\([^,()]+, "([a-z_.]+)"\)',
                                   path.read_text()))
    used |= set(permissions.TRIGGER_ACTIONS.values())
    assert used and used <= set(permissions.PERMISSIONS)
    assert {"return.approve", "return.receive", "reports.read", "staff.manage"} <= used
