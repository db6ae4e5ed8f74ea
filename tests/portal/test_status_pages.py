"""Following a return: signed status links, find my return, timeline, refund, cancel."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from returns_service.db import db
from returns_service.portal.wording import STATUS_LABELS, next_step, status_label
from returns_service.returns.links import SALT, status_token
from returns_service.returns.models import Return
from returns_service.returns.services import RETURN_NOT_FOUND
from tests.portal.conftest import post_form
from workflows.returns import Status

NOT_FOUND = RETURN_NOT_FOUND


@pytest.fixture
def app_config(app_config):
    app_config["REFUND_STATEMENT_TEXT"] = "3 to 5 business days"
    return app_config


def status_path(app, rma: str) -> str:
    with app.test_request_context():
        return f"/returns/status/{status_token(rma)}"


def cancel(client, path: str, version: int | None = 1, token_from: str | None = None):
    """POST the cancel form; the CSRF token comes from `token_from` (default: the page that
    asks for confirmation)."""
    data = {} if version is None else {"version": version}
    return post_form(client, path + "/cancel", data, token_from=token_from or path + "/cancel")


def test_status_page_shows_status_next_step_items_refund_and_timeline(app, client,
                                                                      make_return):
    rma = make_return()["rma"]
    page = client.get(status_path(app, rma))
    assert page.status_code == 200
    text = page.text
    assert f"Return <span class=\"rma-inline\">{rma}</span>" in text
    assert 'data-testid="status">Request received<' in text
    assert "We are checking your request and will email you within 24 hours" in text
    assert "1 \u00d7 Shirt" in text and "Reason: Doesn&#39;t fit" in text
    assert 'data-testid="refund-total">€25.00<' in text
    assert "Request received</strong><br>" in text and "<time datetime=" in text
    assert "Cancel this return" in text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "private, no-store"
    assert ">requested<" not in text  # customer wording, not the internal status name


def test_status_page_follows_approval_receipt_and_refund(app, client, api, make_return):
    rma = make_return()["rma"]
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    path = status_path(app, rma)
    approved = client.get(path).text
    assert "Approved: send your parcel" in approved
    assert f"write {rma} clearly on the box" in approved
    assert "Cancel this return" in approved  # still possible until the parcel arrives

    received = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]})
    assert received.json["status"] == "refund_pending"
    page = client.get(path).text
    assert 'data-testid="status">Refund on its way<' in page
    assert 'data-testid="refund-status">Refund on its way<' in page
    assert 'data-testid="refund-total">€25.00<' in page
    # Not sent yet (no Stripe key here): the page must not say it has been.
    assert "We are refunding your original payment method" in page
    assert "has been sent" not in page
    assert "within 3 to 5 business days" in page  # REFUND_STATEMENT_TEXT, as in the emails
    assert "Cancel this return" not in page
    timeline = page[page.index('data-testid="timeline"'):]
    labels = ["Request received", "Approved: send your parcel",
              "Parcel received: checking your items", "Refund on its way"]
    positions = [timeline.index(f"<strong>{label}</strong>") for label in labels]
    assert positions == sorted(positions)


def test_status_page_invites_feedback_once_the_return_has_ended(app, client, api,
                                                                make_return):
    rma = make_return()["rma"]
    path = status_path(app, rma)
    assert "Rate this return" not in client.get(path).text  # nothing to rate yet
    api.post(f"/api/v1/returns/{rma}/reject", as_="agent", json={"reason": "used"})
    page = client.get(path).text
    assert "Rate this return" in page
    survey = page.split('class="button" href="')[1].split('"')[0]
    assert survey.startswith("/feedback/")  # relative: works on any host
    assert client.get(survey).status_code == 200


def test_forged_status_links_are_refused(app, client, make_return):
    rma = make_return()["rma"]
    token = status_path(app, rma).rsplit("/", 1)[1]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other_key = URLSafeTimedSerializer("not-our-secret", salt=SALT).dumps({"rma": rma})
    for bad in (tampered, other_key, "R-ABCDEF"):
        page = client.get(f"/returns/status/{bad}")
        assert page.status_code == 404
        assert "This link is not valid" in page.text
        assert rma not in page.text
        assert cancel(client, f"/returns/status/{bad}", token_from="/").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Return.status)) == "requested"


def test_expired_status_link_says_so_and_offers_find_my_return(app, client, make_return):
    rma = make_return()["rma"]

    class OldSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 91 * 86400  # older than STATUS_LINK_MAX_AGE_DAYS

    old = URLSafeTimedSerializer("test-secret", salt=SALT, signer=OldSigner).dumps({"rma": rma})
    page = client.get(f"/returns/status/{old}")
    assert page.status_code == 410
    assert "This link has expired" in page.text
    assert 'action="/returns/find"' in page.text


def test_find_my_return_by_code_and_email(app, client, make_return):
    rma = make_return()["rma"]
    found = post_form(client, "/returns/find", {"rma": rma.lower().replace("-", " "),
                                                "email": "JANE@example.com"})
    assert found.status_code == 302
    assert found.location.startswith("/returns/status/")
    assert f'rma-inline">{rma}<' in client.get(found.location).text

    for code, email in ((rma, "other@example.com"), ("R-ZZZZZZ", "jane@example.com")):
        page = post_form(client, "/returns/find", {"rma": code, "email": email})
        assert page.status_code == 422
        assert NOT_FOUND in page.text


def test_customer_cancels_from_the_status_page(app, client, make_return):
    rma = make_return()["rma"]
    path = status_path(app, rma)
    done = cancel(client, path)
    assert done.location == path
    page = client.get(path).text
    assert "Your return is cancelled." in page
    assert 'data-testid="status">Cancelled<' in page
    assert "Cancel this return" not in page
    assert "No refund: this return is cancelled." in page
    with app.app_context():
        ret = db.session.scalar(select(Return))
        assert ret.status == "cancelled"
        last_change = [e for e in ret.events if e.kind == "status"][-1]
        assert (last_change.actor_type, last_change.actor_label) == (
            "customer", "jane@example.com")


def test_a_return_cancelled_by_staff_says_so_with_their_note(app, client, api, make_return):
    rma = make_return()["rma"]
    cancelled = api.post(f"/api/v1/returns/{rma}/cancel", as_="agent",
                         json={"note": "You told us on the phone you are keeping it."})
    assert cancelled.status_code == 200, cancelled.json
    page = client.get(status_path(app, rma)).text
    assert "We cancelled this return." in page
    assert "You cancelled" not in page
    assert "Our note: You told us on the phone you are keeping it." in page


def test_cancel_without_csrf_token_is_refused(app, client, make_return):
    rma = make_return()["rma"]
    refused = client.post(status_path(app, rma) + "/cancel", data={"version": 1})
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Return.status)) == "requested"


def test_cancel_from_a_stale_page_does_not_undo_what_happened(app, client, api, make_return):
    rma = make_return()["rma"]
    path = status_path(app, rma)
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    conflict = cancel(client, path, version=1)  # the page was opened before the approval
    assert "Your return changed while you were on this page" in client.get(conflict.location).text
    api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]})
    # The button is gone now; a page kept open in another tab still posts the form.
    too_late = cancel(client, path, version=None, token_from="/")
    assert "This return can no longer be cancelled." in client.get(too_late.location).text
    with app.app_context():
        assert db.session.scalar(select(Return.status)) == "refund_pending"


@pytest.mark.parametrize("status", list(Status))
def test_every_status_has_customer_wording(status):
    assert status.value in STATUS_LABELS
    label = status_label(status.value)
    assert "_" not in label and label[0].isupper()
    assert next_step(status.value, rma="R-ABC234", hours=24, address=None)
