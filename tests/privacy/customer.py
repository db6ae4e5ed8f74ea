"""One customer's history with personal data in every domain: the service report's hand-made
history (tests/reports/history.py: six returns of jane@example.com, one refunded, one
rejected, one cancelled), plus a message with an attached file, a photo, an SMS phone and
text, a feedback comment, a label file, a webhook delivery log and store credit, all naming
her."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String, select

from returns_service.conversations.models import ConversationMessage, SmsMessage, SmsPhone
from returns_service.credits import services as credits
from returns_service.db import db
from returns_service.feedback.models import Feedback
from returns_service.integrations.endpoints import create_endpoint
from returns_service.photos.models import ReturnPhoto
from returns_service.returns.models import Return
from returns_service.shipping.models import Shipment
from returns_service.storage import storage
from tests.reports.history import seed_history

EMAIL, NAME, PHONE = "jane@example.com", "Jane Doe", "+4915112345678"
NEEDLES = (EMAIL, NAME.lower(), PHONE)
LABEL_KEY = "labels/r1-label.pdf"
PHOTO_KEY = "photos/r1-photo.jpg"
ATTACHMENT_KEY = "attachments/r1-receipt.pdf"


def seed_customer(app: Any, api: Any, make_order: Any) -> dict[str, str]:
    """The history, with Jane's data everywhere; answers the RMAs by key (R1…R6) and the
    store-credit code as `credit`."""
    with app.app_context():  # every return event goes to a store's webhook endpoint
        create_endpoint("http://127.0.0.1:9/hooks", ["*"])
        db.session.commit()
    rmas = seed_history(app, api, make_order)
    with app.app_context():
        ids = {key: db.session.scalar(select(Return.id).where(Return.rma == rma))
               for key, rma in rmas.items()}
        db.session.add(ConversationMessage(
            return_id=ids["R1"], channel="email", direction="inbound", author_type="customer",
            author_label=f"{NAME} <{EMAIL}>", body=f"Hello, {NAME} here, call {PHONE}.",
            attachments=[{"name": "jane-doe-receipt.pdf", "size": 10,
                          "key": ATTACHMENT_KEY, "content_type": "application/pdf"}]))
        storage().put(ATTACHMENT_KEY, b"%PDF receipt of " + NAME.encode(), "application/pdf")
        storage().put(PHOTO_KEY, b"a photo of her parcel", "image/jpeg")
        db.session.add(ReturnPhoto(storage_key=PHOTO_KEY, sku="SKU-1", return_id=ids["R1"],
                                   file_name="Jane Doe parcel.jpg", content_type="image/jpeg",
                                   size=21, width=1, height=1))
        db.session.add(SmsPhone(return_id=ids["R1"], phone=PHONE))
        db.session.add(SmsMessage(return_id=ids["R1"], dedupe_key="r1-approved",
                                  to_phone=PHONE, body="Your return is approved.",
                                  status="delivered"))
        feedback = db.session.scalar(select(Feedback).where(Feedback.return_id == ids["R3"]))
        feedback.comment = f"Signed, {NAME}"
        storage().put(LABEL_KEY, b"%PDF label for " + NAME.encode(), "application/pdf")
        db.session.add(Shipment(return_id=ids["R1"], status="delivered", carrier="DHL",
                                label_key=LABEL_KEY, label_content_type="application/pdf",
                                label_url="https://easypost.test/label.pdf", label_amount=495,
                                label_currency="EUR"))
        code = credits.issue_for_return(db.session, return_id=ids["R4"], email=EMAIL,
                                        currency="EUR", amount=1000, bonus=0)
        rmas["credit"] = code.code
        db.session.commit()
    return rmas


def text_columns() -> list[tuple[Any, Any]]:
    """Every column that can hold text, in every table."""
    return [(table, column) for table in db.metadata.sorted_tables
            for column in table.columns if isinstance(column.type, String | JSON)]


def where_found(needles: tuple[str, ...] = NEEDLES) -> set[str]:
    """`table.column` of every text column some row of which still holds a needle (any
    case)."""
    found = set()
    for table, column in text_columns():
        for value in db.session.execute(select(column).where(column.is_not(None))).scalars():
            if any(needle in str(value).lower() for needle in needles):
                found.add(f"{table.name}.{column.name}")
                break
    return found
