"""Returns over HTTP: request, search, read, decide, receive; errors as problem+json."""

from __future__ import annotations

import re
from typing import Any

import pytest

SHIRT = {"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit", "comment": "Too tight"}


def status_events(api: Any, rma: str) -> list[dict[str, Any]]:
    """The audit trail's status changes (it also lists notifications and notes)."""
    events = api.get(f"/api/v1/returns/{rma}/events", as_="agent").json
    return [e for e in events if e["kind"] == "status"]


def request_body(**overrides: Any) -> dict[str, Any]:
    body = {"order_number": "A1001", "email": "jane@example.com", "items": [SHIRT]}
    body.update(overrides)
    return body


def test_customer_request_answers_rma_status_items_and_status_url(
        api: Any, make_order: Any) -> None:
    make_order()
    response = api.post("/api/v1/returns", json=request_body())
    assert response.status_code == 201
    body = response.json
    assert re.fullmatch(r"R-[2-9A-HJKMNP-TV-Z]{6}", body["rma"])
    assert body["status"] == "requested"
    assert body["channel"] == "api"
    item = body["items"][0]
    assert (item["sku"], item["quantity"], item["reason"], item["comment"]) == (
        "SHIRT", 1, "doesnt_fit", "Too tight")
    assert body["expected_refund"]["total"] == 2500
    assert body["status_url"].startswith("http://returns.test/returns/status/")
    assert response.headers["ETag"] == f'"{body["version"]}"'


def test_the_status_link_is_shown_only_to_whoever_may_cancel_with_it(
        api: Any, make_return: Any) -> None:
    """The link opens the customer's page, with its Cancel button: a warehouse or store
    integration token, which may not cancel, must not get it from a staff read."""
    rma = make_return()["rma"]
    for role in ("agent", "admin"):
        assert "status_url" in api.get(f"/api/v1/returns/{rma}", as_=role).json
    for role in ("warehouse", "integration"):
        assert "status_url" not in api.get(f"/api/v1/returns/{rma}", as_=role).json
        listed = api.get("/api/v1/returns", as_=role).json["items"]
        assert listed and all("status_url" not in item for item in listed)
        assert api.post(f"/api/v1/returns/{rma}/cancel", as_=role, json={}).status_code == 403


def test_rma_codes_are_unique_and_unguessable(api: Any, make_order: Any) -> None:
    make_order(lines=[{"sku": "PEN", "name": "Pen", "quantity": 40, "unit_price": 100}])
    codes = {api.post("/api/v1/returns", json=request_body(
        items=[{"sku": "PEN", "quantity": 1, "reason": "other"}])).json["rma"]
        for _ in range(40)}
    assert len(codes) == 40


def test_request_for_unknown_order_or_wrong_email_is_the_same_404(
        api: Any, make_order: Any) -> None:
    make_order()
    wrong = api.post("/api/v1/returns", json=request_body(email="eve@example.com"))
    unknown = api.post("/api/v1/returns", json=request_body(order_number="Z9"))
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json == unknown.json


@pytest.mark.parametrize(("items", "errors"), [
    ([{"sku": "SHIRT", "quantity": 3, "reason": "doesnt_fit"}],
     {"items.0.quantity": ["You can return between 1 and 2 of this item."]}),
    ([{"sku": "SHIRT", "quantity": 1, "reason": "bored"}],
     {"items.0.reason": ["Choose a reason from the list."]}),
    ([{"sku": "HAT", "quantity": 1, "reason": "other"}],
     {"items.0.sku": ["This item is not part of the order."]}),
    ([SHIRT, SHIRT], {"items.1.sku": ["This item is listed twice."]}),
    ([{"sku": "SHIRT", "quantity": 0, "reason": "other"}],
     {"items.0.quantity": ["Must be greater than or equal to 1."]}),
    ([{"sku": "SHIRT", "quantity": 1}], {"items.0.reason": ["Missing data for required field."]}),
    ([], {"items": ["Length must be between 1 and 100."]}),
])
def test_invalid_request_is_422_per_field_and_creates_nothing(
        api: Any, make_order: Any, items: list[dict[str, Any]],
        errors: dict[str, list[str]]) -> None:
    make_order()
    response = api.post("/api/v1/returns", json=request_body(items=items))
    assert response.status_code == 422
    assert response.json["errors"] == errors
    assert api.get("/api/v1/returns", as_="agent").json["total"] == 0


def test_customer_must_give_the_order_email(api: Any, make_order: Any) -> None:
    make_order()
    response = api.post("/api/v1/returns", json=request_body(email=None))
    assert response.status_code == 422
    assert "email" in response.json["errors"]


def test_agent_creates_on_behalf_of_a_customer_with_the_channel(
        api: Any, make_order: Any) -> None:
    make_order()
    response = api.post("/api/v1/returns", as_="agent",
                        json=request_body(email=None, channel="phone"))
    assert response.status_code == 201
    assert response.json["channel"] == "phone"
    [event] = status_events(api, response.json["rma"])
    assert (event["actor_type"], event["actor_label"]) == ("staff", "agent@shop.test")


def test_staff_search_filters_and_paginates(api: Any, make_order: Any) -> None:
    make_order("A1", lines=[{"sku": "PEN", "name": "Pen", "quantity": 9, "unit_price": 100}])
    make_order("B2", email="bob@example.com")
    rmas = [api.post("/api/v1/returns", json=request_body(
        order_number="A1", items=[{"sku": "PEN", "quantity": 1, "reason": "other"}])).json["rma"]
        for _ in range(3)]
    bob = api.post("/api/v1/returns", json=request_body(
        order_number="B2", email="bob@example.com")).json["rma"]
    api.post(f"/api/v1/returns/{rmas[0]}/approve", as_="agent", json={})

    def search(**query: Any) -> dict[str, Any]:
        response = api.get("/api/v1/returns", as_="agent", query=query)
        assert response.status_code == 200
        return response.json

    assert search()["total"] == 4
    assert [r["rma"] for r in search(status="approved")["items"]] == [rmas[0]]
    assert search(status="requested,approved")["total"] == 4
    assert [r["rma"] for r in search(q="bob@example.com")["items"]] == [bob]
    assert [r["rma"] for r in search(q="B2")["items"]] == [bob]
    assert [r["rma"] for r in search(q=bob.lower().replace("-", ""))["items"]] == [bob]
    assert search(reason="doesnt_fit")["total"] == 1
    page = search(per_page=3, page=2)
    assert (page["total"], len(page["items"]), page["page"]) == (4, 1, 2)
    assert [r["rma"] for r in search(per_page=3)["items"]] == [bob, *reversed(rmas[1:])]
    bad = api.get("/api/v1/returns", as_="agent", query={"per_page": 500})
    assert bad.status_code == 422 and "per_page" in bad.json["errors"]


def test_read_unknown_return_is_404(api: Any) -> None:
    assert api.get("/api/v1/returns/R-ZZZZZZ", as_="agent").status_code == 404


def test_full_decision_flow_writes_the_audit_trail(api: Any, make_return: Any) -> None:
    rma = make_return()["rma"]
    approved = api.post(f"/api/v1/returns/{rma}/approve", as_="agent",
                        json={"note": "Send it back"})
    assert approved.status_code == 200
    assert approved.json["allowed_actions"] == ["cancel", "receive"]
    received = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 1, "condition": "damaged", "restock": False,
                   "note": "Seam split"}]})
    assert received.status_code == 200
    assert received.json["status"] == "refund_pending"
    assert received.json["items"][0]["condition"] == "damaged"
    assert received.json["refund"] == {"items": 2500, "restocking_fee": 0, "shipping": 0,
                                       "adjustments": 0, "total": 2500, "list_price": 2500,
                                       "discount": 0, "tax": 0, "tax_added": 0}
    assert [(r["attempt"], r["amount"], r["status"]) for r in received.json["refunds"]] == [
        (1, 2500, "pending")]
    events = status_events(api, rma)
    assert [(e["from_status"], e["to_status"], e["trigger"], e["actor_label"]) for e in events] == [
        (None, "requested", "request", "jane@example.com"),
        ("requested", "approved", "approve", "agent@shop.test"),
        ("approved", "received", "receive", "warehouse@shop.test"),
        ("received", "refund_pending", "start_refund", "warehouse@shop.test")]
    assert events[1]["note"] == "Send it back"


def test_a_receipt_that_starts_the_refund_is_one_change_of_the_return(
        app: Any, api: Any, make_return: Any) -> None:
    """Received, then refund pending: both steps are in the trail, and the return is written
    once (its version moves by one, so a client that acted on the approval's version is
    told of exactly one change)."""
    from returns_service.db import db
    from tests.reliability.sqlcount import count_queries

    rma = make_return()["rma"]
    approved = api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).json
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as log:
        received = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
            "items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}],
            "expected_version": approved["version"]})
    assert received.status_code == 200, received.json
    assert (received.json["status"], received.json["version"]) == (
        "refund_pending", approved["version"] + 1)
    assert sum(s.startswith("UPDATE returns ") for s in log.statements) == 1, log
    assert [(e["to_status"], e["trigger"]) for e in status_events(api, rma)][-2:] == [
        ("received", "receive"), ("refund_pending", "start_refund")]


def test_nothing_refundable_in_the_parcel_closes_the_return(api: Any, make_return: Any) -> None:
    rma = make_return()["rma"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    response = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 1, "condition": "wrong_item"}]})
    assert response.json["status"] == "closed"
    assert response.json["refunds"] == []


def test_reject_needs_a_reason_from_the_list_and_keeps_the_note(
        api: Any, make_return: Any) -> None:
    rma = make_return()["rma"]
    missing = api.post(f"/api/v1/returns/{rma}/reject", as_="agent", json={})
    assert missing.status_code == 422 and "reason" in missing.json["errors"]
    unknown = api.post(f"/api/v1/returns/{rma}/reject", as_="agent", json={"reason": "meh"})
    assert unknown.status_code == 422
    assert unknown.json["errors"]["reason"][0].startswith("Must be one of: outside_window")
    ok = api.post(f"/api/v1/returns/{rma}/reject", as_="agent",
                  json={"reason": "used", "note": "The shoes were worn outside."})
    assert ok.status_code == 200
    assert (ok.json["status"], ok.json["rejection_reason"]) == ("rejected", "used")


def test_invalid_trigger_is_409_naming_status_and_allowed_triggers(
        api: Any, make_return: Any) -> None:
    rma = make_return()["rma"]
    response = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]})
    assert response.status_code == 409
    assert response.json["current_status"] == "requested"
    assert response.json["allowed_triggers"] == ["approve", "reject", "cancel"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]})
    late_cancel = api.post(f"/api/v1/returns/{rma}/cancel", as_="agent", json={})
    assert late_cancel.status_code == 409
    assert late_cancel.json["detail"] == "cannot cancel a return that is refund_pending"


def test_acting_on_an_old_version_is_a_409_conflict(api: Any, make_return: Any) -> None:
    created = make_return()
    rma, version = created["rma"], created["version"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent",
                    json={"expected_version": version}).status_code == 200
    stale = api.post(f"/api/v1/returns/{rma}/cancel", as_="agent", json={},
                     headers={"If-Match": f'"{version}"'})
    assert stale.status_code == 409
    assert stale.json["current_status"] == "approved"
    assert api.get(f"/api/v1/returns/{rma}", as_="agent").json["status"] == "approved"


@pytest.mark.parametrize(("entry", "field", "message"), [
    ({"sku": "JEANS", "quantity": 1, "condition": "resellable"}, "items.0.sku",
     "This item is not part of the return."),
    ({"sku": "SHIRT", "quantity": 2, "condition": "resellable"}, "items.0.quantity",
     "At most 1 was requested."),
    ({"sku": "SHIRT", "quantity": 1, "condition": "shiny"}, "items.0.condition",
     "Must be one of: resellable, damaged, wrong_item, missing."),
])
def test_invalid_receipt_is_422_and_leaves_the_return_approved(
        api: Any, make_return: Any, entry: dict[str, Any], field: str, message: str) -> None:
    rma = make_return()["rma"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    response = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse",
                        json={"items": [entry]})
    assert response.status_code == 422
    assert response.json["errors"] == {field: [message]}
    assert api.get(f"/api/v1/returns/{rma}", as_="agent").json["status"] == "approved"


ACTIONS = [
    ("approve", {}, {"agent", "admin"}),
    ("reject", {"reason": "used"}, {"agent", "admin"}),
    ("cancel", {}, {"agent", "admin"}),
    ("receive", {"items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]},
     {"warehouse", "admin"}),
]


@pytest.mark.parametrize(("action", "body", "allowed"), ACTIONS)
def test_actions_are_refused_to_other_roles_without_changing_anything(
        api: Any, make_return: Any, action: str, body: dict[str, Any],
        allowed: set[str]) -> None:
    rma = make_return()["rma"]
    if action == "receive":
        api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    before = api.get(f"/api/v1/returns/{rma}", as_="admin").json
    assert api.post(f"/api/v1/returns/{rma}/{action}", json=body).status_code == 401
    for role in {"admin", "agent", "warehouse", "integration"} - allowed:
        response = api.post(f"/api/v1/returns/{rma}/{action}", as_=role, json=body)
        assert response.status_code == 403, role
    after = api.get(f"/api/v1/returns/{rma}", as_="admin").json
    assert (after["status"], after["version"]) == (before["status"], before["version"])
    role = sorted(allowed)[-1]
    assert api.post(f"/api/v1/returns/{rma}/{action}", as_=role, json=body).status_code == 200


def test_staff_reads_need_a_token(api: Any, make_return: Any) -> None:
    rma = make_return()["rma"]
    for path in ("/api/v1/returns", f"/api/v1/returns/{rma}", f"/api/v1/returns/{rma}/events"):
        assert api.get(path).status_code == 401
        assert api.get(path, as_="warehouse").status_code == 200


def test_malformed_json_is_a_problem_response(api: Any) -> None:
    response = api.client.post("/api/v1/returns", data="{not json",
                               content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"


def test_openapi_document_lists_the_contract(api: Any) -> None:
    spec = api.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    for path in ("/api/v1/orders", "/api/v1/orders/{number}",
                 "/api/v1/orders/{number}/eligibility", "/api/v1/returns",
                 "/api/v1/returns/{rma}", "/api/v1/returns/{rma}/events",
                 "/api/v1/returns/{rma}/approve", "/api/v1/returns/{rma}/reject",
                 "/api/v1/returns/{rma}/cancel", "/api/v1/returns/{rma}/receive"):
        assert path in paths, path
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    # Every change takes If-Match, and every answer with a return carries its ETag.
    for action in ("approve", "reject", "cancel", "receive", "refund/retry", "refund/manual"):
        operation = paths[f"/api/v1/returns/{{rma}}/{action}"]["post"]
        assert "If-Match" in [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert "ETag" in operation["responses"]["200"]["headers"]
    assert "ETag" in paths["/api/v1/returns/{rma}"]["get"]["responses"]["200"]["headers"]
    csv_query = [p["name"] for p in paths["/api/v1/reports/service.csv"]["get"]["parameters"]]
    assert "from" in csv_query and "format" not in csv_query  # the .csv path is always CSV


def test_an_rma_code_already_taken_is_skipped_and_the_request_still_succeeds(api, make_return,
                                                                             monkeypatch):
    """RMA codes are short random strings, so two returns can draw the same one: the insert
    skips a taken code and draws again, and the earlier return is untouched."""
    from returns_service.returns import services

    first = make_return("A1001", items=[{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}])
    drawn = iter([first["rma"], first["rma"], "R-NEW234"])
    monkeypatch.setattr(services, "new_rma", lambda: next(drawn))
    second = make_return("A1002", items=[{"sku": "JEANS", "quantity": 1, "reason": "damaged"}])
    assert second["rma"] == "R-NEW234"
    assert [i["sku"] for i in second["items"]] == ["JEANS"]
    again = api.get(f"/api/v1/returns/{first['rma']}", as_="agent").json
    assert (again["order_number"], [i["sku"] for i in again["items"]]) == ("A1001", ["SHIRT"])
    events = api.get(f"/api/v1/returns/{first['rma']}/events", as_="agent").json
    assert [e["to_status"] for e in events if e["kind"] == "status"] == ["requested"]


def test_answers_are_what_the_documented_schema_dumps(app: Any, api: Any,
                                                      make_return: Any) -> None:
    """Changes answer with JSON built directly (api.present.return_json), not dumped by the
    response schema: both must agree, byte for byte, at every step of a return."""
    import json

    from returns_service.api.present import return_dict, return_json
    from returns_service.returns.links import rma_from_token
    from returns_service.returns.schemas import ReturnOut
    from returns_service.returns.services import get_return
    from returns_service.shipping.services import shipment_json

    rma = make_return()["rma"]
    steps = [api.get(f"/api/v1/returns/{rma}", as_="agent"),
             api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={"note": "Ok"}),
             api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={"items": [
                 {"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]}),
             api.get(f"/api/v1/returns/{rma}", as_="agent")]
    assert [r.status_code for r in steps] == [200, 200, 200, 200]
    with app.test_request_context():
        ret = get_return(rma)
        shown = {**return_dict(ret), "shipment": shipment_json(ret, links=True)}
        direct, dumped = return_json(shown), ReturnOut().dump(shown)
        assert json.dumps(direct, sort_keys=True) == json.dumps(dumped, sort_keys=True)
        assert app.json.dumps(direct) == app.json.dumps(dumped)
    # The status links in the answer and in the dump were signed at two instants, maybe
    # a second apart: compared by the RMA they open, the rest byte for byte.
    token = re.compile(r"/returns/status/([^/\"]+)")
    with app.app_context():
        opened = {rma_from_token(t) for t in token.findall(json.dumps(steps[-1].json))}
    assert opened == {rma}
    assert token.sub("/returns/status/T", json.dumps(steps[-1].json, sort_keys=True)) \
        == token.sub("/returns/status/T", json.dumps(dumped, sort_keys=True))
    assert steps[-1].json["refunds"] and steps[-1].json["refund"] is not None
