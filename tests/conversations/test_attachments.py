"""Attachments of customers' emails: images (cleaned of EXIF) and PDFs kept through the
storage, anything else or anything too large listed with why; listed on the message in the
console and on the status page, downloaded through authorised routes only; erased with the
return's personal data; a redelivered email leaves no second copy."""

from __future__ import annotations

import hashlib
import hmac
import io
import time
from pathlib import Path

import pytest

from returns_service.conversations.addresses import reply_address
from returns_service.conversations.attachments import delete_attachments_for_return
from returns_service.conversations.services import messages_of
from returns_service.db import db
from returns_service.returns.links import status_token
from returns_service.returns.services import get_return
from returns_service.storage import FileNotStored, storage
from tests.support.console import login
from tests.support.photos import has_location, photo_with_location

KEY = "key-mailgun-test"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def app_config(app_config, tmp_path):
    app_config.update(REPLY_DOMAIN="replies.shop.test", MAILGUN_WEBHOOK_SIGNING_KEY=KEY,
                      STORAGE_LOCAL_DIR=str(tmp_path / "files"), ATTACHMENT_MAX_BYTES=50_000)
    return app_config


def mailgun(client, to, files, message_id="<mg-1@mail>"):
    timestamp, token = str(int(time.time())), "b" * 50
    signature = hmac.new(KEY.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    form = {"recipient": to, "sender": "jane@example.com", "subject": "Re: your return",
            "body-plain": "Photos and the receipt attached.", "Message-Id": message_id,
            "timestamp": timestamp, "token": token, "signature": signature}
    for n, (content, name) in enumerate(files, 1):
        form[f"attachment-{n}"] = (io.BytesIO(content), name)
    return client.post("/webhooks/inbound-email/mailgun", data=form)


@pytest.fixture
def emailed(app, client, make_return):
    """A return whose customer emailed a photo, a PDF, a web page and a huge scan."""
    rma = make_return()["rma"]
    with app.app_context():
        to = reply_address(rma)
    files = [(photo_with_location(), "IMG_7.jpg"), (PDF, "receipt.pdf"),
             (b"<script>alert(1)</script>", "page.html"), (b"%PDF-" + b"0" * 60_000, "scan.pdf")]
    answer = mailgun(client, to, files)
    assert answer.status_code == 200 and answer.json["result"] == "recorded"
    with app.app_context():
        ret = get_return(rma)
        [message] = messages_of(ret.id)
        return rma, to, message.id, message.attachments, files


def test_images_and_pdfs_are_kept_the_rest_listed_with_why(app, emailed):
    _rma, _to, _id, attached, _files = emailed
    assert [(a["name"], a.get("refused")) for a in attached] == [
        ("IMG_7.jpg", None), ("receipt.pdf", None), ("page.html", "type"), ("scan.pdf", "size")]
    with app.app_context():
        image = storage().get(attached[0]["key"])
        assert image.content_type == "image/jpeg" and not has_location(image.data)
        assert storage().get(attached[1]["key"]).data == PDF


def test_the_agent_sees_and_downloads_them_anonymous_visitors_do_not(app, emailed, tokens):
    rma, _to, message_id, _attached, _files = emailed
    staff = app.test_client()
    url = f"/staff/returns/{rma}/messages/{message_id}/attachments/1"
    assert "/staff/login" in staff.get(url).location
    login(staff, "agent")
    page = staff.get(f"/staff/returns/{rma}").text
    assert f'href="{url}">receipt.pdf</a>' in page
    assert "page.html <span class=\"muted\">(not kept: not an image or PDF)" in page
    assert "scan.pdf <span class=\"muted\">(not kept: too large)" in page
    pdf = staff.get(url)
    assert pdf.data == PDF and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="receipt.pdf"'
    image = staff.get(f"/staff/returns/{rma}/messages/{message_id}/attachments/0")
    assert image.headers["Content-Disposition"].startswith("inline")
    for refused in (2, 3, 9):  # listed only, or no such attachment
        assert staff.get(f"/staff/returns/{rma}/messages/{message_id}/attachments/"
                         f"{refused}").status_code == 404


def test_the_customer_sees_their_own_on_the_status_page_only(app, emailed, make_return):
    rma, _to, message_id, _attached, _files = emailed
    customer = app.test_client()
    with app.test_request_context():
        token = status_token(rma)
        other = status_token(make_return("A2002")["rma"])
    page = customer.get(f"/returns/status/{token}").text
    url = f"/returns/status/{token}/messages/{message_id}/attachments/0"
    assert f'href="{url}">IMG_7.jpg</a>' in page
    assert "page.html <span class=\"muted\">(not kept: please send it as a photo or PDF" in page
    assert customer.get(url).status_code == 200
    assert customer.get(f"/returns/status/{other}/messages/{message_id}/attachments/0"
                        ).status_code == 404


def test_a_redelivered_email_leaves_no_second_copy(app, client, emailed, tmp_path):
    _rma, to, _id, _attached, files = emailed
    before = sorted(Path(tmp_path / "files").rglob("*"))
    again = mailgun(client, to, files)  # the provider retried the same Message-Id
    assert again.json["result"] == "duplicate"
    assert sorted(Path(tmp_path / "files").rglob("*")) == before


def test_erasure_deletes_the_files_and_keeps_that_there_were_some(app, emailed):
    rma, _to, _id, attached, _files = emailed
    with app.app_context():
        ret = get_return(rma)
        assert delete_attachments_for_return(ret.id) == 2
        db.session.commit()
        assert delete_attachments_for_return(ret.id) == 0
        for entry in attached[:2]:
            with pytest.raises(FileNotStored):
                storage().get(entry["key"])
        [message] = messages_of(ret.id)
        assert [a["refused"] for a in message.attachments] == ["erased"] * 4
