"""The customers' Help page says what the policy file says, in the customer's language, with
the refund time measured from real refunds; every customer page and email links to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from returns_service.db import db
from returns_service.returns.models import Return, ReturnEvent
from tests.support.notify import only
from tests.support.smtp import parts

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "return-policy.toml"


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: Any) -> dict[str, Any]:
    app_config["SMTP_URL"] = smtp_server.url
    app_config["RETURN_POLICY_FILE"] = str(EXAMPLE)
    return app_config


def test_the_help_page_follows_the_policy_file(client):
    page = client.get("/help").text
    assert "You can ask for a return within 30 days of delivery." in page
    assert "Orders from marketplace: 14 days." in page
    assert "Items marked as final sale." in page
    assert "<li>Items that are not the ones we sent you</li>" in page  # wrong_item: no refund
    assert "<tr><td>Arrived damaged</td><td>Free, and we refund your original shipping</td>" \
        in page
    assert "<tr><td>Changed my mind</td><td>Free</td></tr>" in page
    assert "<dt>Do I have to pay for the return shipping?</dt>" in page
    # No refund yet: no figure is made up.
    assert "Once your parcel has arrived and we have checked the items" in page


def test_the_help_page_in_german_uses_the_policy_translations(client):
    page = client.get("/help", headers={"Accept-Language": "de-DE"}).text
    assert "Hilfe zu Rücksendungen" in page
    assert "innerhalb von 30 Tagen nach der Lieferung" in page
    assert "Bestellungen über marketplace: 14 Tage." in page
    assert "<tr><td>Beschädigt angekommen</td><td>Kostenlos, und wir erstatten" in page
    assert "<dt>Muss ich den Rückversand bezahlen?</dt>" in page


def test_a_restocking_fee_is_shown_as_a_percentage_in_the_language(build_app, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text("restocking_fee_percent = 12.5\nwindow_days = 1\n")
    client = build_app(RETURN_POLICY_FILE=str(policy)).test_client()
    english = client.get("/help").text
    assert "within 1 day of delivery." in english  # the singular
    assert "<tr><td>Changed my mind</td><td>12.5% restocking fee</td></tr>" in english
    french = client.get("/help", headers={"Accept-Language": "fr"}).text
    assert "12,5\xa0% de frais de remise en stock" in french


def test_the_refund_time_is_the_measured_median(app, client, make_return):
    rmas = [make_return(number=f"B{n}")["rma"] for n in range(3)]
    now = datetime.now(UTC)
    with app.app_context():
        for rma, days in zip(rmas, (1, 2, 6), strict=True):
            ret = db.session.scalar(select(Return).where(Return.rma == rma))
            for status, at in (("received", now - timedelta(days=10)),
                               ("refunded", now - timedelta(days=10 - days))):
                db.session.add(ReturnEvent(return_id=ret.id, kind="status", to_status=status,
                                           trigger="test", actor_type="system",
                                           created_at=at))
        db.session.commit()
    assert "we issue the refund in 2 days (the median of the last 90 days)" in \
        client.get("/help").text


def test_every_customer_page_and_email_links_to_help(client, make_return, smtp_server):
    assert 'href="/help">Help with returns</a>' in client.get("/").text
    assert 'href="/help">Hilfe zu Rücksendungen</a>' in client.get(
        "/returns/find", headers={"Accept-Language": "de"}).text
    assert "/help" not in client.get("/console/login").text
    make_return()
    text, html = parts(only(smtp_server.messages, "We have your return request"))
    assert "Our help page explains how returns work: http://returns.test/help" in text
    assert '<a href="http://returns.test/help">help page</a>' in html
