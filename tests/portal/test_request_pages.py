"""Asking for a return on the portal: lookup, choosing items, review, submit (test client)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from returns_service.common import clock
from returns_service.db import db
from returns_service.orders.services import ORDER_NOT_FOUND
from returns_service.returns.models import Return
from tests.portal.conftest import post_form
from tests.support.photos import photo_with_location

UNKNOWN = ORDER_NOT_FOUND.replace("'", "&#39;")


def only_return(app) -> Return:
    with app.app_context():
        rows = db.session.scalars(select(Return)).all()
        assert len(rows) == 1
        ret = rows[0]
        _ = ret.order, ret.items, ret.events, [i.order_line for i in ret.items]
        return ret


def test_start_page_is_the_root_with_labelled_fields(client):
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    for field in ("order_number", "email"):
        assert f'<label for="{field}">' in page.text
        assert f'id="{field}"' in page.text
    assert 'aria-describedby="email-hint"' in page.text
    assert "style=" not in page.text and "<script" not in page.text
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_post_without_csrf_token_is_refused(client, make_order):
    make_order()
    refused = client.post("/", data={"order_number": "A1001", "email": "jane@example.com"})
    assert refused.status_code == 400
    assert "Nothing was changed" in refused.text
    assert client.get("/return/items").status_code == 302  # no order was opened


def test_wrong_email_gets_the_same_message_as_an_unknown_order(portal, make_order):
    make_order()
    wrong_email = portal.lookup("A1001", "someone@example.com")
    unknown = portal.lookup("Z9999", "jane@example.com")
    for page in (wrong_email, unknown):
        assert page.status_code == 422
        assert UNKNOWN in page.text
        assert "There is a problem" in page.text
    assert wrong_email.text.count(UNKNOWN) == unknown.text.count(UNKNOWN)
    assert portal.client.get("/return/items").location == "/"


def test_start_form_asks_for_missing_and_malformed_fields(portal):
    page = portal.lookup("", "not-an-email")
    assert page.status_code == 422
    assert "Enter your order number." in page.text
    assert "Enter an email address like name@example.com." in page.text
    assert 'href="#order_number"' in page.text  # the summary links to the field
    assert 'aria-invalid="true"' in page.text


def test_items_page_lists_every_line_and_disables_the_final_sale_one(portal, make_order):
    make_order()
    assert portal.lookup("A1001", "  Jane@Example.com ").location == "/return/items"
    page = portal.client.get("/return/items").text
    for text in ("Shirt", "SHIRT", "€25.00", "Jeans", "JEANS", "€80.00", "Socks", "SOCKS"):
        assert text in page
    assert "Final sale: this item cannot be returned." in page
    socks = page[page.index('id="line2-name"'):]
    assert re.search(r'<input type="number" id="line2-unavailable" value="0" disabled', socks)
    assert 'name="line2-quantity"' not in page  # nothing to send for that line
    assert 'name="line0-quantity"' in page and 'max="2"' in page
    assert '<option value="doesnt_fit">Doesn&#39;t fit</option>' in page


def test_lines_already_returned_or_out_of_window_say_why(portal, make_order, make_return):
    make_return(items=[{"sku": "JEANS", "quantity": 1, "reason": "damaged"}])
    portal.lookup()
    page = portal.client.get("/return/items").text
    assert "Already returned." in page

    past = (clock.utcnow() - timedelta(days=60)).isoformat()
    make_order("A2002", placed_at=past, delivered_at=past)
    portal.lookup("A2002")
    page = portal.client.get("/return/items").text
    assert "Return window closed on" in page
    assert 'name="line0-quantity"' not in page
    assert "None of the items in this order can be returned." in page
    assert ">Continue</button>" not in page


def test_an_item_returned_in_another_tab_meanwhile_is_not_silently_dropped(
        app, portal, make_order, api):
    make_order()
    portal.lookup()
    portal.client.get("/return/items")  # the page shows shirt and jeans as returnable
    other = api.post("/api/v1/returns", json={"order_number": "A1001", "email":
                     "jane@example.com", "items": [{"sku": "JEANS", "quantity": 1,
                                                    "reason": "damaged"}]})
    assert other.status_code == 201  # the jeans are returned in another tab
    page = portal.choose({0: (1, "doesnt_fit"), 1: (1, "damaged")},
                         photos={1: [(photo_with_location(), "tear.jpg")]})
    assert page.status_code == 422
    assert "Jeans: Already returned." in page.text
    assert only_return_count(app) == 1


def test_bad_quantity_and_missing_reason_show_inline_errors_and_a_summary(portal, make_order):
    make_order()
    portal.lookup()
    page = portal.choose({0: (3, "doesnt_fit"), 1: (1, "")})
    assert page.status_code == 422
    assert "There is a problem" in page.text
    assert '<a href="#line0-quantity">Shirt: You can return between 1 and 2 of this item.</a>' \
        in page.text
    assert '<a href="#line1-reason">Jeans: Choose a reason for returning this item.</a>' \
        in page.text
    assert 'id="line0-quantity-error"' in page.text
    assert 'aria-describedby="line0-quantity-hint line0-quantity-error"' in page.text
    assert 'value="3"' in page.text  # what the customer typed is kept

    not_a_number = portal.choose({0: ("two", "doesnt_fit")})
    assert "Enter the quantity as a whole number, for example 1." in not_a_number.text
    negative = portal.choose({0: (-1, "doesnt_fit")})
    assert "Enter 0 or more." in negative.text


def test_choosing_nothing_asks_for_at_least_one_item(portal, make_order):
    make_order()
    portal.lookup()
    page = portal.choose({})
    assert page.status_code == 422
    assert "Choose at least one item to return" in page.text
    reason_only = portal.choose({0: (0, "doesnt_fit")})
    assert "Enter how many you are returning" in reason_only.text


def test_review_shows_items_and_expected_refund_then_submit_creates_a_web_return(
        app, portal, make_order):
    make_order()
    portal.lookup()
    assert portal.choose({0: (2, "doesnt_fit", "Too small"), 1: (1, "damaged")},
                         photos={1: [(photo_with_location(), "tear.jpg")]}).location \
        == "/return/review"
    review = portal.client.get("/return/review").text
    assert "Doesn&#39;t fit" in review and "Arrived damaged" in review
    assert "Too small" in review
    # 2 x 25.00 + 80.00, plus shipping back because one item arrived damaged.
    assert 'data-testid="refund-total">€135.00<' in review
    assert only_return_count(app) == 0  # nothing is sent before the button

    location = portal.submit().location
    assert location.startswith("/return/sent/")
    ret = only_return(app)
    assert ret.channel == "web"
    assert ret.status == "requested"
    assert [(i.order_line.sku, i.quantity, i.reason, i.comment) for i in ret.items] == [
        ("SHIRT", 2, "doesnt_fit", "Too small"), ("JEANS", 1, "damaged", None)]
    assert (ret.events[0].actor_type, ret.events[0].actor_label) == ("customer",
                                                                      "jane@example.com")
    confirmation = portal.client.get(location).text
    assert f'data-testid="rma">{ret.rma}<' in confirmation
    assert f"write <strong>{ret.rma}</strong> clearly on the box" in confirmation
    assert "€135.00" in confirmation
    assert 'href="/returns/status/' in confirmation  # relative: works on any host


def only_return_count(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(Return)).all())


def test_submit_twice_creates_one_return(app, portal, make_order):
    make_order()
    first = portal.request_return()
    second = post_form(portal.client, "/return/review", {}, token_from="/")
    assert second.location == first  # the back button shows the same confirmation
    assert only_return_count(app) == 1


def test_a_double_click_on_send_creates_one_return(app, portal, make_order):
    """Both clicks leave the browser before the first answer: they carry the same draft."""
    make_order()
    portal.lookup()
    portal.choose({0: (1, "doesnt_fit")})
    draft_cookie = portal.client.get_cookie("session").value
    first = portal.submit()
    portal.client.set_cookie("session", draft_cookie)
    second = portal.submit()
    assert first.status_code == second.status_code == 302
    # Each answer signs its own link (the signature carries the second it was made in), so
    # the two links may differ; both must show the one return that was made.
    rma = only_return(app).rma
    for answer in (first, second):
        assert f'data-testid="rma">{rma}<' in portal.client.get(answer.location).text
    assert only_return_count(app) == 1


def test_invisible_nul_characters_pasted_into_the_form_are_dropped(app, portal, make_order):
    """PostgreSQL text cannot hold NUL: kept, it turned the page into a 500."""
    make_order()
    assert portal.lookup(number="A10\x0001").location == "/return/items"
    assert portal.choose({0: (1, "doesnt_fit", "Too\x00 small")}).status_code == 302
    assert portal.submit().status_code == 302
    assert only_return(app).items[0].comment == "Too small"


def test_submit_checks_the_order_again(app, portal, make_order, api):
    """A return made meanwhile (another tab, an agent) is caught on submit, not trusted."""
    make_order()
    portal.lookup()
    portal.choose({0: (2, "doesnt_fit")})
    other = api.post("/api/v1/returns", json={"order_number": "A1001", "email":
                     "jane@example.com", "items": [{"sku": "SHIRT", "quantity": 1,
                                                    "reason": "changed_mind"}]})
    assert other.status_code == 201
    page = portal.submit()
    assert page.status_code == 422
    assert "You can return between 1 and 1 of this item." in page.text
    assert only_return_count(app) == 1


def test_a_forged_session_cookie_does_not_open_an_order(client, make_order):
    make_order()
    client.set_cookie("session", 'eyJwb3J0YWxfZHJhZnQiOnsib3JkZXIiOiJBMTAwMSJ9fQ.forged.sig')
    assert client.get("/return/items").location == "/"
    assert client.get("/return/review").location == "/"


def test_auto_approved_return_says_where_to_send_the_parcel(app_config, tmp_path, request):
    policy = tmp_path / "policy.toml"
    policy.write_text('[auto_approve]\nenabled = true\nmax_order_total = { EUR = 100000 }\n'
                      'reasons = ["doesnt_fit"]\n')
    app_config.update(RETURN_POLICY_FILE=str(policy),
                      RETURN_ADDRESS="Returns dept., 1 Dock Road, Leeds LS1 1AA")
    portal, app = request.getfixturevalue("portal"), request.getfixturevalue("app")
    request.getfixturevalue("make_order")()
    confirmation = portal.client.get(portal.request_return()).text
    rma = only_return(app).rma
    assert "Your return is approved: you can send the parcel now." in confirmation
    assert "<strong>Returns dept., 1 Dock Road, Leeds LS1 1AA</strong>" in confirmation
    status_link = re.search(r'href="(/returns/status/[^"]+)"', confirmation)
    status = portal.client.get(status_link.group(1)).text
    assert 'data-testid="status">Approved: send your parcel<' in status
    assert (f"write {rma} clearly on the box and send it to Returns dept., 1 Dock Road, "
            "Leeds LS1 1AA.") in status
