"""Helpers the notification tests share: drive a return through its steps, read emails."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from returns_service.db import db
from returns_service.notifications.models import Notification
from returns_service.payments.stripe import ProviderRefund
from returns_service.refunds import services as refunds
from returns_service.refunds.models import Refund
from returns_service.returns.links import rma_from_token
from returns_service.returns.models import Return
from tests.support.smtp import parts

STATUS_LINK = re.compile(r"http://returns\.test(/returns/status/[A-Za-z0-9_.\-]+)")


def approve(api: Any, rma: str) -> None:
    response = api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    assert response.status_code == 200, response.json


def receive(api: Any, rma: str, items: list[dict[str, Any]]) -> None:
    response = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={"items": items})
    assert response.status_code == 200, response.json


def refund_outcome(app: Flask, rma: str, *, succeeded: bool) -> None:
    """Stripe's answer, recorded as the webhook or job would (no Stripe needed)."""
    from returns_service.payments.stripe import PermanentPaymentError

    with app.app_context():
        refund = db.session.scalar(select(Refund).join(Return).where(Return.rma == rma)
                                   .order_by(Refund.attempt.desc()))
        assert refund is not None
        if succeeded:
            refunds.record_outcome(refund.id, provider=ProviderRefund(
                id=f"re_{refund.id}", status="succeeded", amount=refund.amount,
                currency=refund.currency, payment_intent=refund.payment_intent,
                failure_reason=None, metadata={}))
        else:
            refunds.record_outcome(refund.id, error=PermanentPaymentError(
                "charge_disputed", "Stripe says: charge ch_123 is disputed (insufficient_funds)"))


def dashboard_refund(app: Flask, rma: str, amount: int, *, attempt: int = 2) -> None:
    """A refund the merchant made in the Stripe dashboard, matched to the return, succeeded
    (as the webhook records one)."""
    with app.app_context():
        ret = db.session.scalar(select(Return).where(Return.rma == rma))
        assert ret is not None
        db.session.add(Refund(return_id=ret.id, attempt=attempt, amount=amount,
                              currency=ret.order.currency, status="succeeded",
                              origin="external", provider="stripe",
                              payment_intent=ret.order.payment_intent,
                              idempotency_key=f"external-re_dash_{rma}",
                              provider_refund_id=f"re_dash_{rma}"))
        db.session.commit()


def notifications(app: Flask, rma: str | None = None) -> list[Notification]:
    with app.app_context():
        query = select(Notification).order_by(Notification.id)
        if rma:
            query = query.join(Return).where(Return.rma == rma)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def only(messages: list[EmailMessage], subject_part: str) -> EmailMessage:
    found = [m for m in messages if subject_part in str(m["Subject"])]
    assert len(found) == 1, [str(m["Subject"]) for m in messages]
    return found[0]


def check_status_link(app: Flask, client: FlaskClient, message: EmailMessage, rma: str) -> None:
    """Both parts link to the customer status page of this return, and the link works."""
    text, html = parts(message)
    for body in (text, html):
        match = STATUS_LINK.search(body)
        assert match, body
        path = match.group(1)
        with app.app_context():
            assert rma_from_token(path.rsplit("/", 1)[1]) == rma
    if any(rule.rule.startswith("/returns/status/") for rule in app.url_map.iter_rules()):
        assert client.get(path).status_code == 200
