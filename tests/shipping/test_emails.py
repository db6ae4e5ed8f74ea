"""The parcel's steps reach the customer by email over real SMTP: label ready (with the label
and the slip), on its way, delivered; each once, however often the carrier repeats itself."""

from __future__ import annotations

from typing import Any

import pytest

from tests.shipping.test_labels import shipment_of
from tests.support.easypost import post_event, tracker_event
from tests.support.notify import only
from tests.support.smtp import parts


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: Any) -> dict[str, Any]:
    app_config["SMTP_URL"] = smtp_server.url
    return app_config


def test_label_ready_on_its_way_and_delivered_emails(app, client, approved_return,
                                                     smtp_server) -> None:
    rma = approved_return()
    ready = only(smtp_server.messages, "prepaid return label")
    text, html = parts(ready)
    assert rma in text and "/label" in text and "/slip.pdf" in text
    assert "Download your return label" in html
    # The link in the email opens the label.
    link = next(w for w in text.split() if w.endswith("/label"))
    answer = client.get(link.removeprefix("http://returns.test"))
    assert answer.status_code == 200 and answer.data.startswith(b"%PDF")

    tracker = shipment_of(app, rma).tracker_id
    for status in ("in_transit", "out_for_delivery", "in_transit"):
        post_event(client, tracker_event(tracker, status))
    moving = only(smtp_server.messages, "is on its way to us")
    assert "on its way" in parts(moving)[0]
    post_event(client, tracker_event(tracker, "delivered"))
    delivered = only(smtp_server.messages, "has reached our warehouse")
    assert "delivered to our" in parts(delivered)[0]
