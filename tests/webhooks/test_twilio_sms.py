"""SMS round trip against the loopback fake of Twilio, driven by the real `twilio` client:
opt-in on the status page, status update and agent reply by SMS (once each), delivery
callbacks, the customer's text joining the conversation, STOP; signatures checked with
the library's RequestValidator."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from returns_service.conversations.models import SmsMessage
from returns_service.conversations.services import messages_of, work_state
from returns_service.db import db
from returns_service.outbox.models import OutboxMessage
from returns_service.outbox.service import process
from returns_service.returns.services import get_return
from tests.conversations.conftest import status_path
from tests.portal.conftest import post_form
from tests.support.console import login, token
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER

PHONE = "+447700900123"


@pytest.fixture
def app_config(app_config, fake_twilio):
    app_config.update(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                      TWILIO_FROM_NUMBER=FROM_NUMBER, TWILIO_API_BASE=fake_twilio.url)
    return app_config


def twilio_post(client, path, params, *, token_=AUTH_TOKEN):
    url = "http://returns.test" + path  # PUBLIC_BASE_URL: the URL Twilio signed
    signature = RequestValidator(token_).compute_signature(url, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def opt_in(app, client, rma, phone="+44 7700 900123"):
    path = status_path(app, rma)
    return post_form(client, path + "/sms", {"phone": phone}, token_from=path)


def test_sms_round_trip(app, client, api, make_return, tokens, fake_twilio):
    rma = make_return()["rma"]
    bad = opt_in(app, client, rma, phone="07700 900123")
    assert bad.status_code == 422 and "country code" in bad.text
    assert opt_in(app, client, rma).status_code == 302
    assert f"SMS updates go to {PHONE}" in client.get(status_path(app, rma)).text

    # A status update by SMS, sent by the real client to the fake, with our callback.
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    [update] = fake_twilio.to(PHONE)
    assert update["from"] == FROM_NUMBER
    assert update["body"].startswith(f"Return {rma} is approved.")
    assert update["status_callback"] == "http://returns.test/webhooks/twilio/status"

    # The agent replies by SMS from the console.
    staff = app.test_client()
    login(staff, "agent")
    assert 'id="reply-channel"' in staff.get(f"/staff/returns/{rma}").text
    sent = staff.post(f"/staff/returns/{rma}/reply", data={
        "csrf_token": token(staff), "body": "Drop it at any post office.", "channel": "sms"},
        follow_redirects=True)
    assert "The customer gets it by SMS." in sent.text
    assert [m["body"] for m in fake_twilio.to(PHONE)][1] == "Drop it at any post office."
    reply_sid = fake_twilio.to(PHONE)[1]["sid"]
    # Its job run again sends nothing more.
    with app.app_context():
        outbox = db.session.scalars(select(OutboxMessage.id)
                                    .where(OutboxMessage.topic == "sms.send")).all()
        assert [process(i) for i in outbox] == ["already-processed"] * 2
    assert len(fake_twilio.to(PHONE)) == 2

    # Delivery callbacks only move forward.
    for status in ("delivered", "sent"):
        answer = twilio_post(client, "/webhooks/twilio/status",
                             {"MessageSid": reply_sid, "MessageStatus": status})
        assert answer.status_code == 200 and answer.mimetype == "text/xml"
    with app.app_context():
        assert db.session.scalar(select(SmsMessage.status).where(
            SmsMessage.provider_sid == reply_sid)) == "delivered"

    # The customer texts back: it joins the conversation, the return waits on us.
    inbound = {"From": PHONE, "To": FROM_NUMBER, "Body": "Thanks, done!",
               "MessageSid": "SM" + "1" * 32, "AccountSid": ACCOUNT_SID}
    assert twilio_post(client, "/webhooks/twilio/inbound", inbound).status_code == 200
    assert twilio_post(client, "/webhooks/twilio/inbound", inbound).status_code == 200
    with app.app_context():
        ret = get_return(rma)
        assert [(m.channel, m.body) for m in messages_of(ret.id)][-1] == ("sms",
                                                                           "Thanks, done!")
        assert len([m for m in messages_of(ret.id) if m.body == "Thanks, done!"]) == 1
        assert work_state(ret.id).waiting_on == "us"

    # STOP: no more SMS, and the console says why a reply by SMS is refused.
    stop = {**inbound, "Body": "stop", "MessageSid": "SM" + "2" * 32}
    assert twilio_post(client, "/webhooks/twilio/inbound", stop).status_code == 200
    api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]})
    assert len(fake_twilio.to(PHONE)) == 2
    refused = staff.post(f"/staff/returns/{rma}/reply", data={
        "csrf_token": token(staff), "body": "Still there?", "channel": "sms"})
    assert refused.status_code == 422 and "texted STOP" in refused.text


def test_twilio_webhooks_refuse_a_forged_signature(app, client, make_return):
    params = {"From": PHONE, "Body": "hello", "MessageSid": "SM" + "3" * 32}
    forged = twilio_post(client, "/webhooks/twilio/inbound", params, token_="not-the-token")
    assert forged.status_code == 403
    assert twilio_post(client, "/webhooks/twilio/status", {"MessageSid": "x"},
                       token_="guess").status_code == 403
    assert client.post("/webhooks/twilio/inbound", data=params).status_code == 403


def test_a_number_twilio_refuses_is_recorded_failed_not_retried(
        app, client, api, make_return, fake_twilio):
    rma = make_return()["rma"]
    fake_twilio.invalid_numbers.add(PHONE)
    opt_in(app, client, rma)
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    with app.app_context():
        sms = db.session.scalar(select(SmsMessage))
        assert sms.status == "failed" and "21211" in sms.error
    assert fake_twilio.messages == []
