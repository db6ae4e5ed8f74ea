"""Customers answer by email through the built-in SMTP receiver: signed reply addresses
only, quoted text and signatures trimmed, attachments kept through the storage."""

from __future__ import annotations

import smtplib

import pytest

from returns_service.conversations.addresses import ForgedAddress, rma_of_address
from returns_service.conversations.services import messages_of, work_state
from returns_service.returns.services import get_return
from returns_service.storage import storage
from tests.conversations.conftest import REPLY_DOMAIN, address_of, customer_reply, send_smtp
from tests.support.photos import has_location, photo_with_location


def test_a_reply_by_smtp_joins_the_conversation_trimmed_and_waiting_on_us(
        app, make_return, receiver):
    rma = make_return()["rma"]
    address = address_of(app, rma)
    assert address.startswith(f"returns+{rma}.") and address.endswith(f"@{REPLY_DOMAIN}")

    send_smtp(receiver, customer_reply(address, "The box arrived crushed, see the photo.",
                                       attachment=photo_with_location()))

    with app.app_context():
        ret = get_return(rma)
        [message] = messages_of(ret.id)
        assert message.body == "The box arrived crushed, see the photo."  # no quote, no sig
        assert (message.channel, message.direction) == ("email", "inbound")
        [attached] = message.attachments
        assert attached["name"] == "box.jpg" and attached["content_type"] == "image/jpeg"
        kept = storage().get(attached["key"]).data  # kept, cleaned like a photo: no EXIF
        assert attached["size"] == len(kept) and not has_location(kept)
        assert work_state(ret.id).waiting_on == "us"


def test_the_same_email_delivered_twice_is_recorded_once(app, make_return, receiver):
    rma = make_return()["rma"]
    reply = customer_reply(address_of(app, rma), "Where do I send it?")
    send_smtp(receiver, reply)
    send_smtp(receiver, reply)  # a sending server that retried after a lost 250
    with app.app_context():
        assert [m.body for m in messages_of(get_return(rma).id)] == ["Where do I send it?"]


def test_the_receiver_refuses_forged_and_foreign_recipients(app, make_return, receiver):
    rma = make_return()["rma"]
    genuine = address_of(app, rma)
    forged = genuine.replace(genuine.split(".")[1].split("@")[0], "0" * 16)
    other_rma = genuine.replace(rma, "R-ZZZZZZ")  # another return, the same signature
    for address in (forged, other_rma, f"postmaster@{REPLY_DOMAIN}", "someone@elsewhere.test"):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            send_smtp(receiver, customer_reply(address, "Let me in"))
        assert refused.value.recipients[address][0] == 550
    with app.app_context():
        assert messages_of(get_return(rma).id) == []
        with pytest.raises(ForgedAddress):
            rma_of_address(forged)
        # Mail servers may lower-case the local part: the address still works.
        assert rma_of_address(genuine.lower()) == rma


def test_without_a_reply_domain_no_address_is_valid(app, build_app, make_return):
    rma = make_return()["rma"]
    address = address_of(app, rma)
    other = build_app(REPLY_DOMAIN=None)
    with other.app_context(), pytest.raises(ForgedAddress):
        rma_of_address(address)
