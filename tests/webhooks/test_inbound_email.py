"""Customers' email replies through an inbound-email provider: Mailgun signed with its HMAC,
Postmark and SendGrid behind basic auth or the secret URL; forged addresses refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time

import pytest

from returns_service.conversations.addresses import reply_address
from returns_service.conversations.services import messages_of, work_state
from returns_service.returns.services import get_return
from tests.support.photos import photo_with_location

SIGNING_KEY = "key-mailgun-test"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
QUOTED = ("Yes, I still want the refund.\n\nOn Tue, 3 Mar 2026, Acme Returns wrote:\n"
          "> Your return is approved\n")


@pytest.fixture
def app_config(app_config, tmp_path):
    app_config.update(REPLY_DOMAIN="replies.shop.test", MAILGUN_WEBHOOK_SIGNING_KEY=SIGNING_KEY,
                      STORAGE_LOCAL_DIR=str(tmp_path / "files"),
                      INBOUND_EMAIL_BASIC_AUTH="inbound:s3cret-pass",
                      INBOUND_EMAIL_URL_SECRET="long-random-url-secret")
    return app_config


@pytest.fixture
def address(app, make_return):
    rma = make_return()["rma"]
    with app.app_context():
        return rma, reply_address(rma)


def conversation(app, rma):
    with app.app_context():
        ret = get_return(rma)
        return [(m.channel, m.body, m.attachments) for m in messages_of(ret.id)], \
            work_state(ret.id).waiting_on if work_state(ret.id) else None


def mailgun_form(recipient, *, key=SIGNING_KEY, timestamp=None, message_id="<mg-1@mail>"):
    timestamp = str(timestamp or int(time.time()))
    token = "a" * 50
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {"recipient": recipient, "sender": "jane@example.com",
            "from": "Jane Doe <jane@example.com>", "subject": "Re: your return",
            "body-plain": QUOTED, "Message-Id": message_id, "timestamp": timestamp,
            "token": token, "signature": signature}


def test_mailgun_reply_is_verified_trimmed_and_recorded_once(app, client, address):
    rma, to = address
    form = mailgun_form(to)
    first = client.post("/webhooks/inbound-email/mailgun",
                        data={**form, "attachment-1": (io.BytesIO(PDF), "label.pdf")})
    assert first.status_code == 200 and first.json["result"] == "recorded"
    again = client.post("/webhooks/inbound-email/mailgun", data=form)  # Mailgun retried
    assert again.json["result"] == "duplicate"
    messages, waiting = conversation(app, rma)
    [(channel, body, [attached])] = messages
    assert (channel, body) == ("email", "Yes, I still want the refund.")
    assert attached.pop("key").startswith("attachments/")  # kept (once: the retry added none)
    assert attached == {"name": "label.pdf", "content_type": "application/pdf",
                        "size": len(PDF)}
    assert waiting == "us"


@pytest.mark.parametrize("change", ["signature", "stale"])
def test_mailgun_without_a_valid_signature_is_refused(app, client, address, change):
    rma, to = address
    form = mailgun_form(to, key="wrong-key") if change == "signature" \
        else mailgun_form(to, timestamp=int(time.time()) - 3600)
    answer = client.post("/webhooks/inbound-email/mailgun", data=form)
    assert answer.status_code == 401
    assert answer.mimetype == "application/problem+json"
    assert conversation(app, rma)[0] == []


def test_a_forged_reply_address_is_refused_for_good(app, client, address):
    rma, to = address
    forged = to.replace(to.split(".", 1)[1].split("@")[0], "f" * 16)
    answer = client.post("/webhooks/inbound-email/mailgun", data=mailgun_form(forged))
    assert answer.status_code == 406  # Mailgun does not retry a 406
    assert answer.json["result"] == "refused"
    assert conversation(app, rma)[0] == []


def postmark_body(to):
    return {"From": "Jane Doe <jane@example.com>", "To": to, "OriginalRecipient": to,
            "Subject": "Re: your return", "MessageID": "pm-1", "TextBody": QUOTED,
            "Attachments": [{"Name": "photo.png", "ContentType": "image/png",
                             "ContentLength": 2048,
                             "Content": base64.b64encode(photo_with_location("PNG")).decode()}]}


def test_postmark_needs_basic_auth(app, client, address):
    rma, to = address
    url = "/webhooks/inbound-email/postmark"
    assert client.post(url, json=postmark_body(to)).status_code == 401
    wrong = base64.b64encode(b"inbound:guess").decode()
    assert client.post(url, json=postmark_body(to),
                       headers={"Authorization": f"Basic {wrong}"}).status_code == 401
    good = base64.b64encode(b"inbound:s3cret-pass").decode()
    answer = client.post(url, json=postmark_body(to), headers={"Authorization": f"Basic {good}"})
    assert answer.status_code == 200 and answer.json["rma"] == rma
    [(channel, body, [attached])] = conversation(app, rma)[0]
    assert (channel, body) == ("email", "Yes, I still want the refund.")
    assert attached["key"].startswith("attachments/") and attached["name"] == "photo.png"
    assert attached["content_type"] == "image/png"


def test_sendgrid_on_the_secret_url(app, client, address):
    rma, to = address
    form = {"to": to, "from": "Jane Doe <jane@example.com>", "subject": "Re: your return",
            "text": QUOTED, "envelope": json.dumps({"to": [to], "from": "jane@example.com"}),
            "headers": "Message-ID: <sg-1@mail>\nSubject: Re: your return\n"}
    assert client.post("/webhooks/inbound-email/sendgrid/not-the-secret",
                       data=form).status_code == 404
    answer = client.post("/webhooks/inbound-email/sendgrid/long-random-url-secret", data=form)
    assert answer.status_code == 200 and answer.json["result"] == "recorded"
    assert conversation(app, rma)[0][0][1] == "Yes, I still want the refund."


def test_without_settings_the_routes_answer_503(build_app, address):
    _rma, to = address
    bare = build_app(MAILGUN_WEBHOOK_SIGNING_KEY=None, INBOUND_EMAIL_BASIC_AUTH=None,
                     INBOUND_EMAIL_URL_SECRET=None).test_client()
    assert bare.post("/webhooks/inbound-email/mailgun",
                     data=mailgun_form(to)).status_code == 503
    assert bare.post("/webhooks/inbound-email/postmark",
                     json=postmark_body(to)).status_code == 503
