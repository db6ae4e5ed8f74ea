"""The texts the shipping steps added (label ready, on its way, delivered, the slip line of
the approval email) reach a German customer in German, subjects included."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from returns_service.db import db
from returns_service.notifications.services import customer_subject
from returns_service.returns.models import Return
from tests.support.notify import approve, only
from tests.support.smtp import parts


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: Any) -> dict[str, Any]:
    app_config["SMTP_URL"] = smtp_server.url
    return app_config


def german_return(api: Any, make_order: Any) -> str:
    make_order("D1001", locale="de")
    response = api.post("/api/v1/returns", json={
        "order_number": "D1001", "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]})
    assert response.status_code == 201, response.json
    return response.json["rma"]


def test_shipping_and_reply_subjects_are_in_the_customers_language(
        app: Any, api: Any, make_order: Any) -> None:
    rma = german_return(api, make_order)
    with app.app_context():
        ret = db.session.scalar(select(Return).where(Return.rma == rma))
        assert customer_subject(ret, "label_ready") == \
            f"Ihr frankiertes Rücksendeetikett für {rma} ist bereit"
        assert customer_subject(ret, "parcel_on_its_way") == \
            f"Ihr Rücksendepaket {rma} ist auf dem Weg zu uns"
        assert customer_subject(ret, "parcel_delivered") == \
            f"Ihr Rücksendepaket {rma} ist in unserem Lager angekommen"
        assert customer_subject(ret, "agent_reply") == f"Zu Ihrer Rücksendung {rma}"


def test_the_approval_emails_slip_line_is_in_german(
        app: Any, api: Any, make_order: Any, smtp_server: Any) -> None:
    rma = german_return(api, make_order)
    approve(api, rma)
    text, html = parts(only(smtp_server.messages, "genehmigt"))
    assert "Drucken Sie Ihren Rücksendeschein aus und legen Sie ihn in das Paket: " \
           "http://returns.test/returns/status/" in text
    assert 'Drucken Sie Ihren <a href="http://returns.test/returns/status/' in html
    assert "Print your" not in text + html
