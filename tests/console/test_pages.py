"""Console pages as an agent, warehouse worker and admin use them (Flask test client)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from returns_service.common import clock
from returns_service.db import db
from returns_service.payments.stripe import PermanentPaymentError, ProviderRefund
from returns_service.refunds.models import Refund
from returns_service.refunds.services import record_outcome
from returns_service.returns.models import Return
from returns_service.returns.services import get_return
from tests.console.test_roles import approved, refund_failed
from tests.support.console import csrf_from, extra_app, login, state, token
from tests.support.notify import dashboard_refund
from workflows.returns import Actor


def html(response) -> str:
    return response.get_data(as_text=True)


# --- queue -------------------------------------------------------------------------------

def test_queue_lists_oldest_first_and_flags_breached_first_response(app, client, make_return,
                                                                    frozen_now):
    old = make_return("A1001")["rma"]
    clock.freeze(frozen_now + timedelta(hours=20))
    new = make_return("A1002")["rma"]
    clock.freeze(frozen_now + timedelta(hours=26))
    login(client, "agent")
    page = html(client.get("/staff/returns"))
    assert page.index(old) < page.index(new)
    assert "1 d 2 h · overdue" in page  # 26 h > 24 h target
    assert "6 h 0 min" in page and page.count("overdue") == 1
    assert "1 on this page waiting longer" in page


def test_first_response_target_is_configurable(app_config, make_return, frozen_now):
    make_return()
    app_config["FIRST_RESPONSE_TARGET_HOURS"] = 4
    clock.freeze(frozen_now + timedelta(hours=5))
    with extra_app(app_config) as strict:
        client = strict.test_client()
        login(client, "agent")
        page = html(client.get("/staff/returns"))
    assert "First-response target: 4 h" in page and "5 h 0 min · overdue" in page


def test_queue_filters_and_search(app, client, api, make_return):
    shirt = make_return("A1001")["rma"]
    jeans = make_return("A1002", items=[{"sku": "JEANS", "quantity": 1,
                                         "reason": "damaged"}])["rma"]
    other = make_return("B2001", email="jane@example.com")["rma"]
    api.post(f"/api/v1/returns/{other}/approve", as_="agent", json={})
    login(client, "agent")

    def shown(query):
        page = html(client.get("/staff/returns", query_string=query))
        return {r for r in (shirt, jeans, other) if r in page}

    assert shown({}) == {shirt, jeans}  # awaiting a decision by default
    assert shown({"status": "all"}) == {shirt, jeans, other}
    assert shown({"status": "approved"}) == {other}
    assert shown({"reason": "damaged"}) == {jeans}
    assert shown({"channel": "phone"}) == set()
    assert shown({"channel": "api"}) == {shirt, jeans}
    assert shown({"q": shirt.lower().replace("-", "")}) == {shirt}
    assert shown({"q": "A1002"}) == {jeans}
    assert shown({"q": "JANE@example.com", "status": "all"}) == {shirt, jeans, other}
    assert shown({"status": "nonsense"}) == {shirt, jeans}  # bad filter: the default
    assert shown({"q": "A10\x0002"}) == {jeans}  # a pasted NUL is dropped, not a 500


def test_queue_paginates(app, client, make_return):
    rmas = [make_return(f"A10{i:02d}")["rma"] for i in range(3)]
    login(client, "agent")
    first = html(client.get("/staff/returns?per_page=2"))
    second = html(client.get("/staff/returns?per_page=2&page=2"))
    assert rmas[0] in first and rmas[1] in first and rmas[2] not in first
    assert rmas[2] in second and rmas[0] not in second
    assert "Page 1 of 2" in first and "Next page" in first
    assert "Previous page" in second
    absurd = client.get("/staff/returns?per_page=2&page=99999999999999999999")
    assert absurd.status_code == 200 and rmas[0] in html(absurd)  # past the range: page 1


# --- detail and decisions ----------------------------------------------------------------

def unlabelled_fields(page: str) -> tuple[list[str], list[str]]:
    """(inputs with no <label for> naming them, labels naming no element) on a page."""
    from html.parser import HTMLParser

    class Fields(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.ids: set[str] = set()
            self.inputs: list[str] = []
            self.label_for: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if a.get("id"):
                self.ids.add(str(a["id"]))
            if tag == "label" and a.get("for"):
                self.label_for.append(str(a["for"]))
            if tag in ("input", "select", "textarea") and a.get("type") not in (
                    "hidden", "submit"):
                self.inputs.append(str(a.get("id")))

    found = Fields()
    found.feed(page)
    return ([i for i in found.inputs if i not in found.label_for],
            [f for f in found.label_for if f not in found.ids])


def test_every_field_on_the_decision_forms_has_its_own_label(app, client, make_return):
    """Approve, reject and cancel each have a note: each must be named for screen readers."""
    rma = make_return()["rma"]
    login(client, "agent")
    page = html(client.get(f"/staff/returns/{rma}"))
    assert 'id="approve-note"' in page and 'id="reject-note"' in page
    assert unlabelled_fields(page) == ([], [])
    # Each of these notes reaches the customer (email, status page): the label says so.
    for form in ("approve", "reject", "cancel"):
        assert f'<label for="{form}-note">Note to the customer' in page
    refused = client.post(f"/staff/returns/{rma}/reject", data={
        "csrf_token": csrf_from(page), "expected_version": "1", "reason": ""})
    errors = html(refused)
    assert 'aria-invalid="true"' in errors and 'aria-describedby="reject-reason-error"' in errors
    assert unlabelled_fields(errors) == ([], [])


def test_detail_shows_the_whole_story_and_only_allowed_actions(app, client, api, make_return):
    rma = make_return(items=[{"sku": "JEANS", "quantity": 1, "reason": "damaged",
                              "comment": "Zip broken"}])["rma"]
    login(client, "agent")
    page = html(client.get(f"/staff/returns/{rma.lower()}"))
    assert "Zip broken" in page and "Arrived damaged" in page
    assert "Requested within the 30-day window" in page
    assert "First return from this customer." in page
    assert "€85.00" in page  # expected refund: jeans + shipping (our fault)
    assert ">Approve<" in page and ">Reject<" in page and ">Cancel return<" in page
    assert "Retry refund" not in page and "Item shows signs of use" in page  # reason list

    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    page = html(client.get(f"/staff/returns/{rma}"))
    assert ">Approve<" not in page and ">Reject<" not in page and ">Cancel return<" in page
    assert "Receive parcel" not in page  # agents do not receive

    client.post("/staff/logout", data={"csrf_token": token(client)})
    login(client, "warehouse")
    page = html(client.get(f"/staff/returns/{rma}"))
    assert "Receive parcel" in page and ">Cancel return<" not in page


def test_reject_needs_a_reason_and_records_it_with_the_agent(app, client, make_return):
    rma = make_return()["rma"]
    login(client, "agent")
    csrf = token(client)
    missing = client.post(f"/staff/returns/{rma}/reject", data={
        "csrf_token": csrf, "expected_version": "1", "reason": "", "note": ""})
    assert missing.status_code == 422
    assert "Choose a reason." in html(missing) and "Tell the customer why." in html(missing)
    assert state(app, rma) == ("requested", 1)

    done = client.post(f"/staff/returns/{rma}/reject", data={
        "csrf_token": csrf, "expected_version": "1", "reason": "used",
        "note": "It has been worn."}, follow_redirects=True)
    assert f"Rejected {rma}." in html(done)
    with app.app_context():
        ret = get_return(rma)
        assert (ret.status, ret.rejection_reason, ret.customer_message) == (
            "rejected", "used", "It has been worn.")
        assert [e for e in ret.events if e.kind == "status"][-1].actor_label == \
            "agent@shop.test"


def test_stale_version_is_a_conflict_shown_as_a_flash(app, client, api, make_return):
    rma = make_return()["rma"]
    login(client, "agent")
    page = html(client.get(f"/staff/returns/{rma}"))
    csrf = csrf_from(page)
    # Meanwhile a colleague cancels it through the API.
    api.post(f"/api/v1/returns/{rma}/cancel", as_="agent", json={})
    response = client.post(f"/staff/returns/{rma}/approve",
                           data={"csrf_token": csrf, "expected_version": "1"})
    assert response.status_code == 409
    assert "changed by someone else" in html(response)
    assert state(app, rma) == ("cancelled", 2)
    assert ">Approve<" not in html(response)  # the fresh page offers what is allowed now


def test_a_conflict_keeps_what_the_agent_typed_for_a_second_try(app, client, api, make_return):
    from returns_service.returns.review import flag_for_review

    rma = make_return()["rma"]
    login(client, "agent")
    page = html(client.get(f"/staff/returns/{rma}"))
    with app.app_context():  # meanwhile the return changes, still awaiting a decision
        flag_for_review(get_return(rma), "Disputed with the bank.", Actor.system())
        db.session.commit()
    note = "Worn and washed; we cannot take it back."
    response = client.post(f"/staff/returns/{rma}/reject", data={
        "csrf_token": csrf_from(page), "expected_version": "1", "reason": "used",
        "note": note})
    assert response.status_code == 409
    conflict = html(response)
    assert "changed by someone else" in conflict and note in conflict
    assert "Disputed with the bank." in conflict  # what changed is on the page
    latest = state(app, rma)[1]
    assert set(re.findall(r'name="expected_version" type="hidden" value="(\d+)"', conflict)) \
        == {str(latest)}  # every form now acts on the version the page shows
    again = client.post(f"/staff/returns/{rma}/reject", data={
        "csrf_token": csrf_from(conflict), "reason": "used", "note": note,
        "expected_version": str(latest)})
    assert again.status_code == 302 and state(app, rma)[0] == "rejected"


def test_action_the_state_machine_forbids_is_a_conflict(app, client, api, make_return):
    rma = approved(api, make_return)
    login(client, "agent")
    response = client.post(f"/staff/returns/{rma}/approve",
                           data={"csrf_token": token(client), "expected_version": "2"})
    assert response.status_code == 409
    assert "Not possible now" in html(response)
    assert state(app, rma) == ("approved", 2)


def test_customer_history_counts_other_returns_and_refunded_money(app, client, api,
                                                                  make_return):
    first = approved(api, make_return)
    api.post(f"/api/v1/returns/{first}/receive", as_="warehouse", json={"items": [
        {"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]})
    with app.app_context():
        refund = db.session.scalar(select(Refund))
        record_outcome(refund.id, provider=ProviderRefund(
            "re_1", "succeeded", 2500, "EUR", refund.payment_intent, None, {}))
    second = make_return("A2002")["rma"]
    login(client, "agent")
    page = html(client.get(f"/staff/returns/{second}"))
    assert "1 other return; refunded €25.00." in page and first in page


# --- refund problems ---------------------------------------------------------------------

def test_refund_problems_lists_failures_and_retry_starts_a_new_attempt(app, client, api,
                                                                       make_return):
    rma = refund_failed(app, api, make_return)
    login(client, "agent")
    page = html(client.get("/staff/refunds/problems"))
    assert rma in page and "charge_for_pending_refund_disputed" in page
    assert "The charge is disputed." in page
    response = client.post(f"/staff/returns/{rma}/retry-refund", data={
        "csrf_token": csrf_from(page), "expected_version": str(state(app, rma)[1])},
        follow_redirects=True)
    assert f"Started a new refund attempt for {rma}." in html(response)
    with app.app_context():
        ret = get_return(rma)
        attempts = db.session.scalars(select(Refund.attempt).where(
            Refund.return_id == ret.id).order_by(Refund.attempt)).all()
        assert ret.status == "refund_pending" and attempts == [1, 2]
        assert ret.events[-1].trigger == "retry_refund"
        assert [e for e in ret.events if e.kind == "status"][-1].actor_label == \
            "agent@shop.test"
    assert "No failed refunds" in html(client.get("/staff/refunds/problems"))


def test_refund_problems_keep_showing_why_ours_failed_after_a_dashboard_refund(
        app, client, api, make_return):
    rma = refund_failed(app, api, make_return)
    dashboard_refund(app, rma, 1000)  # then a partial refund made in the Stripe dashboard
    login(client, "agent")
    page = html(client.get("/staff/refunds/problems"))
    assert rma in page and "charge_for_pending_refund_disputed" in page


def test_retry_twice_with_the_same_page_starts_one_attempt(app, client, api, make_return):
    rma = refund_failed(app, api, make_return)
    login(client, "agent")
    data = {"csrf_token": token(client), "expected_version": str(state(app, rma)[1])}
    assert client.post(f"/staff/returns/{rma}/retry-refund", data=data).status_code == 302
    again = client.post(f"/staff/returns/{rma}/retry-refund", data=data)
    assert again.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Refund)) == 2


def test_a_permanent_failure_without_payment_shows_up_for_retry(app, client, api, make_return):
    rma = approved(api, make_return)
    api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={"items": [
        {"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]})
    with app.app_context():
        record_outcome(db.session.scalar(select(Refund.id)),
                       error=PermanentPaymentError(None, "Card expired."))
    login(client, "agent")
    assert "Card expired." in html(client.get("/staff/refunds/problems"))


# --- receiving ---------------------------------------------------------------------------

def test_scan_opens_the_receive_screen_whatever_the_case_or_dash(client, api, make_return):
    rma = approved(api, make_return)
    login(client, "warehouse")
    response = client.get("/staff/receiving", query_string={"rma": f" {rma.lower()[2:]} "})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/staff/receiving/{rma}"
    assert "autofocus" in html(client.get("/staff/receiving"))


def test_scan_explains_unknown_and_not_yet_approved_returns(client, make_return):
    rma = make_return()["rma"]
    login(client, "warehouse")
    unknown = client.get("/staff/receiving?rma=r-zzzzzz")
    assert unknown.status_code == 404 and "No return R-ZZZZZZ" in html(unknown)
    waiting = client.get(f"/staff/receiving?rma={rma}")
    assert waiting.status_code == 409
    assert "is requested: only approved returns can be received" in html(waiting)


def test_receiving_records_conditions_and_starts_the_refund(app, client, api, make_return):
    rma = make_return(items=[{"sku": "SHIRT", "quantity": 2, "reason": "doesnt_fit"},
                             {"sku": "JEANS", "quantity": 1, "reason": "doesnt_fit"}])["rma"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    login(client, "warehouse")
    page = html(client.get(f"/staff/receiving/{rma}"))
    response = client.post(f"/staff/receiving/{rma}", data={
        "csrf_token": csrf_from(page), "expected_version": "2", "note": "Box dented",
        "items-0-sku": "SHIRT", "items-0-quantity": "2", "items-0-condition": "resellable",
        "items-0-restock": "yes", "items-1-sku": "JEANS", "items-1-quantity": "1",
        "items-1-condition": "wrong_item", "items-1-restock": "no",
        "items-1-note": "A different brand"}, follow_redirects=True)
    assert f"Received {rma}. Refund of €50.00 waits until STRIPE_API_KEY is set." in html(response)
    with app.app_context():
        ret = get_return(rma)
        items = {i.order_line.sku: i for i in ret.items}
        assert ret.status == "refund_pending" and ret.refund_amount == 5000
        assert (items["SHIRT"].condition, items["SHIRT"].restock) == ("resellable", True)
        assert (items["JEANS"].condition, items["JEANS"].restock,
                items["JEANS"].inspection_note) == ("wrong_item", False, "A different brand")


def test_receiving_more_than_requested_is_shown_next_to_the_field(app, client, api,
                                                                  make_return):
    rma = approved(api, make_return)
    login(client, "warehouse")
    response = client.post(f"/staff/receiving/{rma}", data={
        "csrf_token": token(client), "expected_version": "2", "items-0-sku": "SHIRT",
        "items-0-quantity": "5", "items-0-condition": "resellable", "items-0-restock": "yes"})
    assert response.status_code == 422
    assert "At most 1 was requested." in html(response)
    assert "There is a problem" in html(response)
    assert state(app, rma) == ("approved", 2)


def test_receiving_with_nothing_refundable_closes_the_return(app, client, api, make_return):
    rma = approved(api, make_return)
    login(client, "warehouse")
    response = client.post(f"/staff/receiving/{rma}", data={
        "csrf_token": token(client), "expected_version": "2", "items-0-sku": "SHIRT",
        "items-0-quantity": "0", "items-0-condition": "missing", "items-0-restock": "no"},
        follow_redirects=True)
    assert "Nothing in the parcel qualifies for a refund" in html(response)
    assert state(app, rma)[0] == "closed"


# --- returns on a customer's behalf ------------------------------------------------------

def test_agent_creates_a_return_for_a_caller(app, client, make_order):
    make_order("A1001")
    login(client, "agent")
    page = html(client.get("/staff/returns/new?order_number=A1001&email=JANE@example.com"))
    assert "Final sale: this item cannot be returned." in page
    response = client.post("/staff/returns/new", data={
        "csrf_token": csrf_from(page), "order_number": "A1001", "email": "JANE@example.com",
        "channel": "phone", "items-0-sku": "SHIRT", "items-0-quantity": "2",
        "items-0-reason": "doesnt_fit", "items-0-comment": "Too small",
        "items-1-sku": "JEANS", "items-1-quantity": "0", "items-1-reason": "",
        "items-2-sku": "SOCKS"}, follow_redirects=True)
    assert "Created R-" in html(response) and "(phone)" in html(response)
    with app.app_context():
        ret = db.session.scalar(select(Return))
        assert ret.channel == "phone" and ret.status == "requested"
        assert [(i.order_line.sku, i.quantity, i.comment) for i in ret.items] == [
            ("SHIRT", 2, "Too small")]
        assert ret.events[0].actor_label == "agent@shop.test"


def test_assisted_form_sent_twice_creates_one_return(app, client, make_order):
    """A double click on "Create return": the second POST finds the first's return."""
    make_order("A1001")
    login(client, "agent")
    page = html(client.get("/staff/returns/new?order_number=A1001&email=jane@example.com"))
    key = re.search(r'name="request_key" type="hidden" value="([^"]+)"', page).group(1)
    form = {"csrf_token": csrf_from(page), "order_number": "A1001", "email": "jane@example.com",
            "channel": "phone", "request_key": key, "items-0-sku": "SHIRT",
            "items-0-quantity": "1", "items-0-reason": "doesnt_fit"}
    first, second = (client.post("/staff/returns/new", data=form) for _ in range(2))
    assert first.status_code == second.status_code == 302
    assert first.location == second.location
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Return)) == 1
    again = html(client.get("/staff/returns/new?order_number=A1001&email=jane@example.com"))
    assert key not in again  # a new form is a new request


def test_assisted_return_gets_the_same_policy_checks(app, client, make_order, frozen_now):
    make_order("A1001")
    login(client, "agent")
    csrf = token(client)
    base = {"csrf_token": csrf, "order_number": "A1001", "email": "", "channel": "chat"}
    nothing = client.post("/staff/returns/new", data={**base, "items-0-sku": "SHIRT",
                                                      "items-0-quantity": "0"})
    assert nothing.status_code == 422 and "Choose at least one item" in html(nothing)
    too_many = client.post("/staff/returns/new", data={
        **base, "items-0-sku": "SHIRT", "items-0-quantity": "3", "items-0-reason": ""})
    assert too_many.status_code == 422
    assert "You can return between 1 and 2 of this item." in html(too_many)
    assert "Choose a reason from the list." in html(too_many)
    clock.freeze(frozen_now + timedelta(days=40))  # the window has closed
    late = client.post("/staff/returns/new", data={
        **base, "items-0-sku": "SHIRT", "items-0-quantity": "1",
        "items-0-reason": "doesnt_fit"})
    assert late.status_code == 422 and "Return window closed" in html(late)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Return)) == 0


def test_order_lookup_explains_a_miss(client, make_order):
    make_order("A1001")
    login(client, "agent")
    response = client.get("/staff/returns/new?order_number=A1001&email=other@example.com")
    assert response.status_code == 404
    assert "No order with this number and email." in html(response)


# --- users -------------------------------------------------------------------------------

def test_admin_creates_disables_and_reenables_staff(app, client, tokens):
    login(client, "admin")
    page = html(client.get("/staff/users"))
    created = client.post("/staff/users", data={
        "csrf_token": csrf_from(page), "email": "Kim@Shop.test", "name": "Kim",
        "role": "warehouse", "password": "a-long-password"}, follow_redirects=True)
    assert "Created kim@shop.test (warehouse)." in html(created)
    duplicate = client.post("/staff/users", data={
        "csrf_token": csrf_from(page), "email": "kim@shop.test", "role": "agent",
        "password": "another-password"})
    assert duplicate.status_code == 422 and "already exists" in html(duplicate)
    short = client.post("/staff/users", data={
        "csrf_token": csrf_from(page), "email": "lee@shop.test", "role": "agent",
        "password": "short"})
    assert short.status_code == 422 and "at least 12 characters" in html(short)

    assert login(app.test_client(), "kim", password="a-long-password").status_code == 302
    with app.app_context():
        from returns_service.staff.models import StaffUser

        kim_id = db.session.scalar(select(StaffUser.id).where(StaffUser.email == "kim@shop.test"))
        admin_id = db.session.scalar(select(StaffUser.id).where(
            StaffUser.email == "admin@shop.test"))
    client.post(f"/staff/users/{kim_id}/active", data={"csrf_token": csrf_from(page)})
    with app.app_context():
        assert db.session.get(StaffUser, kim_id).active is False
    assert login(app.test_client(), "kim", password="a-long-password").status_code == 401
    client.post(f"/staff/users/{kim_id}/active",
                data={"csrf_token": csrf_from(page), "active": "y"})
    with app.app_context():
        assert db.session.get(StaffUser, kim_id).active is True
    self_off = client.post(f"/staff/users/{admin_id}/active",
                           data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "You cannot disable your own account." in html(self_off)
    with app.app_context():
        assert db.session.get(StaffUser, admin_id).active is True


def test_receiving_a_return_changed_meanwhile_changes_nothing(app, client, api, make_return):
    rma = approved(api, make_return)
    login(client, "warehouse")
    page = html(client.get(f"/staff/receiving/{rma}"))
    api.post(f"/api/v1/returns/{rma}/cancel", as_="agent", json={})  # customer called
    response = client.post(f"/staff/receiving/{rma}", data={
        "csrf_token": csrf_from(page), "expected_version": "2", "items-0-sku": "SHIRT",
        "items-0-quantity": "1", "items-0-condition": "resellable", "items-0-restock": "yes"},
        follow_redirects=True)
    assert "changed by someone else" in html(response)
    assert state(app, rma) == ("cancelled", 3)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Refund)) == 0
