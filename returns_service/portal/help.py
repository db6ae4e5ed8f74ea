"""The customers' Help page, generated from the return policy: how long they have, what
cannot be returned, reasons and what each costs, how long refunds take (measured), and the
store's own questions and answers (the policy file's `[[faq]]`)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from babel.dates import format_timedelta
from babel.numbers import format_percent
from flask import Blueprint, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from returns_service.common.clock import utcnow
from returns_service.common.i18n import current_language, policy_label, refund_statement_text
from returns_service.reports.services import median_refund_seconds
from returns_service.returns.policy import ReturnPolicy
from returns_service.returns.services import current_policy

bp = Blueprint("help", __name__)

# How long back the refund time is measured.
MEASURED_DAYS = 90
# The warehouse's conditions, as the customer would say why an item is not refunded.
NOT_REFUNDED = {
    "resellable": _l("Items returned as new"),
    "damaged": _l("Items that come back damaged"),
    "wrong_item": _l("Items that are not the ones we sent you"),
    "missing": _l("Items missing from the parcel"),
}


def _text(own: tuple[tuple[str, str], ...], default: str) -> str:
    return dict(own).get(current_language(), default)


def _cost(policy: ReturnPolicy, merchant_fault: bool) -> str:
    if merchant_fault:
        return _("Free, and we refund your original shipping")
    if policy.restocking_fee_percent:
        percent = format_percent(policy.restocking_fee_percent / Decimal(100),
                                 locale=current_language(), decimal_quantization=False)
        return _("%(percent)s restocking fee", percent=percent)
    return _("Free")


def help_view(policy: ReturnPolicy) -> dict[str, Any]:
    """Everything the Help page says, from the policy and the measured refund time."""
    now = utcnow()
    median = median_refund_seconds(now - timedelta(days=MEASURED_DAYS), now)
    return {
        "window_days": policy.window_days,
        "channels": sorted(policy.window_days_by_channel.items()),
        "not_refunded": [str(text) for condition, text in NOT_REFUNDED.items()
                         if condition not in policy.refundable_conditions],
        "reasons": [(policy_label(r), _cost(policy, r.merchant_fault)) for r in policy.reasons],
        "refund_time": format_timedelta(timedelta(seconds=median), threshold=1.1,
                                        locale=current_language())
        if median is not None else None,
        "measured_days": MEASURED_DAYS,
        "statement": refund_statement_text(),
        "faq": [(_text(e.questions, e.question), _text(e.answers, e.answer))
                for e in policy.faq],
    }


@bp.get("/help")
def page() -> Any:
    return render_template("portal/help.html", help=help_view(current_policy()))
