"""What customers read about a return's status: plain words, never internal status names."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from returns_service.common.i18n import refund_statement_text

# status -> (short label for the badge and timeline, tone for the badge colour)
STATUS_LABELS: dict[str, tuple[Any, str]] = {
    "requested": (_l("Request received"), "warn"),
    "approved": (_l("Approved: send your parcel"), "ok"),
    "rejected": (_l("Not accepted"), "bad"),
    "cancelled": (_l("Cancelled"), "bad"),
    "expired": (_l("Closed: parcel not received in time"), "bad"),
    "received": (_l("Parcel received: checking your items"), "warn"),
    "closed": (_l("Closed: no refund due"), "bad"),
    "refund_pending": (_l("Refund on its way"), "ok"),
    "refunded": (_l("Refunded"), "ok"),
    "refund_failed": (_l("Refund delayed"), "warn"),
    "credited": (_l("Store credit issued"), "ok"),
}

# What happens next, from the customer's side. %(rma)s, %(hours)s, %(address)s and
# %(statement)s are filled in. Keys are statuses, or a status and who moved it there
# ("cancelled:staff"). Lazy: written in the language of the page that shows them.
NEXT_STEPS: dict[str, Any] = {
    "requested": _l("We are checking your request and will email you within %(hours)s hours. "
                    "Please wait for our approval before you send anything."),
    "approved": _l("Pack the items, write %(rma)s clearly on the box and send it to "
                   "%(address)s. We will email you when it arrives."),
    "rejected": _l("Nothing more will happen with this return. Reply to our email if you have "
                   "questions."),
    "cancelled": _l("You cancelled this return. You can start a new one while the return "
                    "window is open."),
    "cancelled:staff": _l("We cancelled this return. Reply to our email if you have "
                          "questions; you can start a new one while the return window is "
                          "open."),
    "expired": _l("We did not receive the parcel in time. Contact us if you already sent it."),
    "received": _l("We are checking the items. Your refund starts as soon as we are done."),
    "closed": _l("Nothing in the parcel qualified for a refund. Reply to our email if you "
                 "have questions."),
    "refund_pending": _l("We are refunding your original payment method. Once the refund is "
                         "complete, it usually shows on your statement within "
                         "%(statement)s."),
    "refunded": _l("Your refund is complete. It usually shows on your statement within "
                   "%(statement)s."),
    "refund_failed": _l("Your bank did not accept the refund yet. We are on it and will email "
                        "you when it goes through; you do not need to do anything."),
    "credited": _l("Your store credit is ready: use the code below at checkout. We have "
                   "emailed it to you too."),
    # Keep-the-item returns: nothing to send back.
    "requested:keep": _l("We are checking your request and will email you within %(hours)s "
                         "hours. You will not need to send the items back."),
    "approved:keep": _l("No need to send anything back: keep the items."),
}

NO_ADDRESS = _l("our returns address (reply to our email if you do not have it)")


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, (status.replace("_", " ").capitalize(), ""))[0])


def status_tone(status: str) -> str:
    return STATUS_LABELS.get(status, ("", ""))[1]


def next_step(status: str, *, rma: str, hours: int, address: str | None,
              statement: str | None = None, by_staff: bool = False,
              keep_item: bool = False) -> str:
    variant = "staff" if by_staff else "keep" if keep_item else None
    text = (NEXT_STEPS.get(f"{status}:{variant}") if variant else None) \
        or NEXT_STEPS.get(status, "")
    text = str(text)
    if "%(statement)s" in text:  # the setting is read only where it is used
        statement = statement or refund_statement_text()
    return text % {"rma": rma, "hours": hours, "address": address or str(NO_ADDRESS),
                   "statement": statement} if text else ""
