"""Customer satisfaction: signed rating links, and recording one answer per return.

Links are signed with itsdangerous under their own salt, so a status-page link can never be
replayed as a feedback link (or the other way round). An answer can be changed later: the
latest rating, comment and NPS win.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from returns_service.common.errors import NotFound, ValidationFailed
from returns_service.db import db
from returns_service.db.insert_once import insert_once
from returns_service.feedback.models import Feedback, FeedbackAnswer
from returns_service.returns.links import LinkInvalid, public_url, rma_from_signed, sign_rma
from returns_service.returns.models import Return
from returns_service.returns.rma import normalise_rma
from workflows.returns import TERMINAL

SALT = "return-feedback-link"
RATINGS = (1, 2, 3, 4, 5)
# Lazy: written in the language of the page or email that shows them.
RATING_LABELS = {1: _l("Very poor"), 2: _l("Poor"), 3: _l("OK"), 4: _l("Good"),
                 5: _l("Excellent")}
SOURCES = ("email", "survey")


FeedbackLinkInvalid = LinkInvalid  # forged, of another kind, or expired


def feedback_token(rma: str) -> str:
    return sign_rma(rma, salt=SALT)


def feedback_url(rma: str) -> str:
    """The short survey (rating, comment, NPS) for a return; safe to put in emails and pages."""
    return public_url(f"/feedback/{feedback_token(rma)}")


def rating_url(rma: str, rating: int) -> str:
    """One-click rating link for an email (it opens a confirm page; GET changes nothing)."""
    return f"{feedback_url(rma)}/{int(rating)}"


def rma_from_feedback_token(token: str) -> str:
    return rma_from_signed(token, salt=SALT,
                           max_age_days=int(current_app.config["FEEDBACK_LINK_MAX_AGE_DAYS"]))


def can_rate(ret: Return) -> bool:
    """Customers rate a return once it has ended (refunded, rejected, closed…)."""
    return ret.status in TERMINAL


def return_for_feedback(rma: str) -> Return:
    ret = db.session.scalar(select(Return).where(Return.rma == normalise_rma(rma)))
    if ret is None:
        raise NotFound(f"No return {rma}.")
    return ret


def feedback_of(ret: Return) -> Feedback | None:
    return db.session.scalar(select(Feedback).where(Feedback.return_id == ret.id))


def record_feedback(ret: Return, *, rating: int | None, comment: str | None = None,
                    nps: int | None = None, source: str = "survey",
                    keep_missing: bool = False) -> Feedback:
    """Create or update the return's answer. Flushes; the caller commits.

    keep_missing=True (the one-click email rating) leaves an earlier comment and NPS alone.
    """
    errors: dict[str, list[str]] = {}
    if rating not in RATINGS:
        errors["rating"] = [gettext("Choose a rating from 1 to 5.")]
    if nps is not None and not 0 <= nps <= 10:
        errors["nps"] = [gettext("Choose a number from 0 to 10.")]
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > 2000:
        errors["comment"] = [gettext("Please keep your comment under 2000 characters.")]
    if not can_rate(ret):
        errors["rating"] = [gettext("You can rate your return once it is complete.")]
    if source not in SOURCES:
        raise ValueError(f"unknown feedback source {source!r}")
    if errors:
        raise ValidationFailed(errors)
    assert rating is not None
    row = feedback_of(ret)
    if row is None:
        # INSERT … ON CONFLICT DO NOTHING: a twin answer sent at the same moment (a double
        # click) cannot make this one fail; it is then updated below, the last one winning.
        new_id = insert_once(Feedback, {"return_id": ret.id, "rating": rating, "nps": nps,
                                        "comment": comment, "source": source},
                             unique="return_id")
        if new_id is not None:
            return _answered(db.session.get(Feedback, new_id))  # type: ignore[arg-type]
        row = feedback_of(ret)
        assert row is not None
    row.rating, row.source = rating, source
    if not keep_missing or comment is not None:
        row.comment = comment
    if not keep_missing or nps is not None:
        row.nps = nps
    return _answered(row)


def _answered(row: Feedback) -> Feedback:
    """Log the answer as it now stands (a one-click rating keeps the NPS given before, so
    the report keeps counting it), and flush."""
    db.session.add(FeedbackAnswer(return_id=row.return_id, rating=row.rating, nps=row.nps,
                                  source=row.source))
    db.session.flush()
    return row
