"""Every customer-visible step sends exactly one correct email over real SMTP (aiosmtpd)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from returns_service.feedback.services import rma_from_feedback_token
from tests.support.notify import (
    approve,
    check_status_link,
    dashboard_refund,
    notifications,
    only,
    receive,
    refund_outcome,
)
from tests.support.smtp import parts

RATING_LINK = re.compile(r"http://returns\.test/feedback/([A-Za-z0-9_.\-]+)/([1-5])\b")


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: Any) -> dict[str, Any]:
    app_config["SMTP_URL"] = smtp_server.url
    app_config["SHOP_NAME"] = "Acme Outfitters"
    app_config["RETURN_ADDRESS"] = "Acme Returns, 1 Dock Road, Leeds LS1 1AA"
    return app_config


def test_request_and_approval_emails_tell_the_customer_what_to_do(
        app: Any, client: Any, api: Any, make_return: Any, smtp_server: Any) -> None:
    rma = make_return()["rma"]

    requested = only(smtp_server.messages, "We have your return request")
    assert requested["To"] == "jane@example.com"
    assert rma in requested["Subject"]
    text, html = parts(requested)
    for body in (text, html):
        assert "Hi Jane," in body and rma in body and "A1001" in body
        assert "Shirt" in body
    assert "Doesn't fit" in text and "Doesn&#39;t fit" in html
    assert "Acme Outfitters" in text
    check_status_link(app, client, requested, rma)

    approve(api, rma)
    approved = only(smtp_server.messages, "is approved")
    text, html = parts(approved)
    assert f"Write your return code {rma}" in text
    assert rma in html and "Write your return code" in html
    # The printable slip, linked from the approval email (opened on the status page).
    assert "Print your return slip" in text and "/slip.pdf" in text and "return slip</a>" in html
    assert "within 21 days to:\n       Acme Returns, 1 Dock Road, Leeds LS1 1AA;" in \
        text.replace("\r\n", "\n")
    assert "to <strong>Acme Returns, 1 Dock Road, Leeds LS1 1AA</strong>" in html
    check_status_link(app, client, approved, rma)
    assert len(smtp_server.messages) == 2
    assert [n.status for n in notifications(app, rma)] == ["sent", "sent"]


def test_rejection_email_gives_reason_note_and_rating_links(
        app: Any, client: Any, api: Any, make_return: Any, smtp_server: Any) -> None:
    rma = make_return()["rma"]
    response = api.post(f"/api/v1/returns/{rma}/reject", as_="agent",
                        json={"reason": "used", "note": "The shirt has been washed."})
    assert response.status_code == 200, response.json

    message = only(smtp_server.messages, "About your return request")
    text, html = parts(message)
    assert "Reason: Item shows signs of use" in text
    assert "The shirt has been washed." in text and "The shirt has been washed." in html
    assert "How did we do?" in text
    for body in (text, html):
        links = RATING_LINK.findall(body)
        assert [int(rating) for _, rating in links] == [1, 2, 3, 4, 5]
        with app.app_context():
            assert {rma_from_feedback_token(token) for token, _ in links} == {rma}
    check_status_link(app, client, message, rma)


def test_cancel_email(app: Any, client: Any, api: Any, make_return: Any,
                      smtp_server: Any) -> None:
    rma = make_return()["rma"]
    approve(api, rma)
    response = api.post(f"/api/v1/returns/{rma}/cancel", as_="agent",
                        json={"note": "Cancelled at your request on the phone."})
    assert response.status_code == 200
    text, html = parts(only(smtp_server.messages, "has been cancelled"))
    assert rma in text and "Cancelled at your request on the phone." in html


def test_receipt_and_refund_emails_show_amounts_and_breakdown(
        app: Any, client: Any, api: Any, make_return: Any, smtp_server: Any) -> None:
    rma = make_return(items=[{"sku": "JEANS", "quantity": 1, "reason": "damaged"},
                             {"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}])["rma"]
    approve(api, rma)
    receive(api, rma, [{"sku": "JEANS", "quantity": 1, "condition": "damaged"},
                       {"sku": "SHIRT", "quantity": 1, "condition": "wrong_item"}])

    text, html = parts(only(smtp_server.messages, "We received your parcel"))
    assert "1 of 1 x Jeans: accepted" in text
    assert "1 of 1 x Shirt: not accepted (not our item)" in text
    assert "We are refunding €85.00" in text  # jeans 80.00 + shipping 5.00 (our fault)
    assert "€85.00" in html

    refund_outcome(app, rma, succeeded=True)
    refunded = only(smtp_server.messages, "Your refund for return")
    text, html = parts(refunded)
    assert "has been issued: €85.00" in text
    assert "Items returned:      €80.00" in text
    assert "Shipping refunded:   €5.00" in text
    assert "within 5 to 10 business days" in text and "5 to 10 business days" in html
    assert "/feedback/" in text and "/feedback/" in html  # the return has ended: rate us
    check_status_link(app, client, refunded, rma)
    steps = [n.step for n in notifications(app, rma)]
    assert steps == ["requested", "approved", "received", "refunded"]
    assert len(smtp_server.messages) == 4


def test_a_refund_paid_in_parts_is_told_in_full_with_its_parts(
        app: Any, api: Any, make_return: Any, smtp_server: Any) -> None:
    """Ours failed, €30 was refunded in the Stripe dashboard, the retry sent the €55 left:
    the email's total must match its breakdown (it said "Total refunded: €55.00")."""
    rma = make_return(items=[{"sku": "JEANS", "quantity": 1, "reason": "damaged"}])["rma"]
    approve(api, rma)
    receive(api, rma, [{"sku": "JEANS", "quantity": 1, "condition": "damaged"}])
    refund_outcome(app, rma, succeeded=False)
    dashboard_refund(app, rma, 3000)
    retried = api.post(f"/api/v1/returns/{rma}/refund/retry", as_="agent", json={})
    assert retried.json["refunds"][-1]["amount"] == 5500
    refund_outcome(app, rma, succeeded=True)
    text, html = parts(only(smtp_server.messages, "is on its way"))
    assert "has been issued: €85.00" in text and "Total refunded:      €85.00" in text
    assert "€30.00 of it was refunded earlier, and €55.00 now." in text
    assert "€30.00 of it was refunded earlier, and €55.00 now." in html


def test_failed_refund_email_says_we_are_on_it_without_stripe_details(
        app: Any, client: Any, api: Any, make_return: Any, smtp_server: Any) -> None:
    rma = make_return()["rma"]
    approve(api, rma)
    receive(api, rma, [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}])
    refund_outcome(app, rma, succeeded=False)

    message = only(smtp_server.messages, "is delayed: we are on it")
    text, html = parts(message)
    assert "We are on it." in text and "€25.00" in text
    for body in (text, html):
        assert "Stripe" not in body and "ch_123" not in body and "insufficient" not in body
        assert "disputed" not in body
    assert "/feedback/" not in text  # not ended yet: no rating links


def test_each_email_and_its_delivery_is_on_the_staff_timeline(
        app: Any, api: Any, make_return: Any, smtp_server: Any) -> None:
    rma = make_return()["rma"]
    events = api.get(f"/api/v1/returns/{rma}/events", as_="agent").json
    mail = [e for e in events if e["kind"] == "notification"]
    assert [e["data"]["delivery"] for e in mail] == ["queued", "sent"]
    assert all(e["customer_visible"] is False for e in mail)
    assert mail[1]["data"]["to"] == "jane@example.com"
    assert "Email sent to jane@example.com" in mail[1]["note"]


def test_zero_decimal_currency_is_formatted_for_the_currency(
        app: Any, api: Any, make_order: Any, smtp_server: Any) -> None:
    from tests.conftest import order_payload

    payload = order_payload("J1", currency="JPY", shipping_total=0)
    payload["lines"] = [{"sku": "CUP", "name": "Tea cup", "quantity": 1, "unit_price": 3000}]
    assert api.post("/api/v1/orders", as_="integration", json=payload).status_code in (200, 201)
    response = api.post("/api/v1/returns", json={
        "order_number": "J1", "email": "jane@example.com",
        "items": [{"sku": "CUP", "quantity": 1, "reason": "changed_mind"}]})
    rma = response.json["rma"]
    approve(api, rma)
    receive(api, rma, [{"sku": "CUP", "quantity": 1, "condition": "resellable"}])
    text, _ = parts(only(smtp_server.messages, "We received your parcel"))
    assert "We are refunding ¥3,000 " in text


def test_auto_approved_request_gets_the_approval_email_only(
        app: Any, app_config: dict[str, Any], api: Any, make_order: Any, smtp_server: Any,
        tmp_path: Any) -> None:
    from returns_service import create_app
    from returns_service.db import db
    from tests.conftest import Api

    policy = tmp_path / "policy.toml"
    policy.write_text('[auto_approve]\nmax_order_total = { EUR = 100000 }\n'
                      'reasons = ["doesnt_fit"]\n')
    auto = create_app({**app_config, "RETURN_POLICY_FILE": str(policy)})
    make_order("A1")
    response = Api(auto.test_client(), api.tokens).post("/api/v1/returns", json={
        "order_number": "A1", "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]})
    assert response.json["status"] == "approved"
    rma = response.json["rma"]
    assert [str(m["Subject"]) for m in smtp_server.messages] == [
        f"Your return {rma} is approved: how to send it back"]
    assert [(n.step, n.status) for n in notifications(app, rma)] == [
        ("requested", "skipped"), ("approved", "sent")]
    with auto.app_context():
        db.engine.dispose()


def test_a_parcel_with_nothing_refundable_gets_one_email_that_says_so(
        app: Any, api: Any, make_return: Any, smtp_server: Any) -> None:
    rma = make_return()["rma"]
    approve(api, rma)
    receive(api, rma, [{"sku": "SHIRT", "quantity": 1, "condition": "wrong_item"}])
    assert api.get(f"/api/v1/returns/{rma}", as_="agent").json["status"] == "closed"
    text, _ = parts(only(smtp_server.messages, "We received your parcel"))
    assert "1 of 1 x Shirt: not accepted (not our item)" in text
    assert "Nothing in the parcel qualifies for a refund" in text
    assert len(smtp_server.messages) == 3  # requested, approved, received: no extra "closed"


def test_internal_notes_are_not_stored_for_customer_emails(
        app: Any, api: Any, make_return: Any, smtp_server: Any) -> None:
    rma = make_return()["rma"]
    approve(api, rma)
    receive(api, rma, [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}])
    refund_outcome(app, rma, succeeded=False)
    failed = next(n for n in notifications(app, rma) if n.step == "refund_failed")
    assert "Stripe" not in str(failed.context) and "ch_123" not in str(failed.context)


@pytest.mark.parametrize(("mail_from", "support"), [
    ("Bücher & Söhne Retouren <returns@example.com>", "Kundenservice Ü <help@example.com>"),
    ("returns@example.com", None),
])
def test_sender_names_beyond_ascii_and_long_lines_arrive_intact(
        app_config: dict[str, Any], make_return: Any, smtp_server: Any, mail_from: str,
        support: str | None) -> None:
    """Messages are built with the email package's compat32 classes: display names are
    encoded words, bodies UTF-8 quoted-printable, and they read back as written."""
    from email.utils import parseaddr

    from returns_service import create_app
    from tests.conftest import Api

    app = create_app({**app_config, "MAIL_FROM": mail_from, "SUPPORT_EMAIL": support,
                      "SHOP_NAME": "Ørsted Outfitters"})
    make_return()  # the order, on the shared database
    smtp_server.messages.clear()
    try:
        response = Api(app.test_client(), {}).post("/api/v1/returns", json={
            "order_number": "A1001", "email": "jane@example.com",
            "items": [{"sku": "JEANS", "quantity": 1, "reason": "doesnt_fit"}]})
    finally:
        with app.app_context():
            from returns_service.db import db

            db.session.remove()
            db.engine.dispose()
    assert response.status_code == 201, response.json
    (message,) = smtp_server.messages
    assert parseaddr(str(message["From"])) == parseaddr(mail_from)
    if support:
        assert parseaddr(str(message["Reply-To"])) == parseaddr(support)
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)
    assert "Ørsted Outfitters" in text and response.json["rma"] in html
