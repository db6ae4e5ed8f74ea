"""What customers read about a return's status: plain words, never internal status names."""

from __future__ import annotations

# status -> (short label for the badge and timeline, tone for the badge colour)
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "requested": ("Request received", "warn"),
    "approved": ("Approved: send your parcel", "ok"),
    "rejected": ("Not accepted", "bad"),
    "cancelled": ("Cancelled", "bad"),
    "expired": ("Closed: parcel not received in time", "bad"),
    "received": ("Parcel received: checking your items", "warn"),
    "closed": ("Closed: no refund due", "bad"),
    "refund_pending": ("Refund on its way", "ok"),
    "refunded": ("Refunded", "ok"),
    "refund_failed": ("Refund delayed", "warn"),
    "credited": ("Store credit issued", "ok"),
}

# What happens next, from the customer's side. {rma}, {hours}, {address}, {statement} are
# filled in. Keys are statuses, or a status and who moved it there ("cancelled:staff").
NEXT_STEPS: dict[str, str] = {
    "requested": "We are checking your request and will email you within {hours} hours. "
                 "Please wait for our approval before you send anything.",
    "approved": "Pack the items, write {rma} clearly on the box and send it to {address}. "
                "We will email you when it arrives.",
    "rejected": "Nothing more will happen with this return. Reply to our email if you have "
                "questions.",
    "cancelled": "You cancelled this return. You can start a new one while the return window "
                 "is open.",
    "cancelled:staff": "We cancelled this return. Reply to our email if you have questions; "
                       "you can start a new one while the return window is open.",
    "expired": "We did not receive the parcel in time. Contact us if you already sent it.",
    "received": "We are checking the items. Your refund starts as soon as we are done.",
    "closed": "Nothing in the parcel qualified for a refund. Reply to our email if you have "
              "questions.",
    "refund_pending": "We are refunding your original payment method. Once the refund is "
                      "complete, it usually shows on your statement within {statement}.",
    "refunded": "Your refund is complete. It usually shows on your statement within "
                "{statement}.",
    "refund_failed": "Your bank did not accept the refund yet. We are on it and will email you "
                     "when it goes through; you do not need to do anything.",
    "credited": "Your store credit is ready: use the code below at checkout. We have emailed "
                "it to you too.",
    # Keep-the-item returns: nothing to send back.
    "requested:keep": "We are checking your request and will email you within {hours} hours. "
                      "You will not need to send the items back.",
    "approved:keep": "No need to send anything back: keep the items.",
}

NO_ADDRESS = "our returns address (reply to our email if you do not have it)"


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, (status.replace("_", " ").capitalize(), ""))[0]


def status_tone(status: str) -> str:
    return STATUS_LABELS.get(status, ("", ""))[1]


def next_step(status: str, *, rma: str, hours: int, address: str | None,
              statement: str = "5 to 10 business days", by_staff: bool = False,
              keep_item: bool = False) -> str:
    variant = "staff" if by_staff else "keep" if keep_item else None
    text = (NEXT_STEPS.get(f"{status}:{variant}") if variant else None) \
        or NEXT_STEPS.get(status, "")
    return text.format(rma=rma, hours=hours, address=address or NO_ADDRESS,
                       statement=statement)
