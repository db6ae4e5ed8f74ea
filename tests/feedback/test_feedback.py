"""CSAT: one-click rating links from the final email, the short survey, one answer per return."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from returns_service.common.errors import ValidationFailed
from returns_service.db import db
from returns_service.feedback.models import Feedback
from returns_service.feedback.services import feedback_url, rating_url
from returns_service.returns.links import status_token
from tests.conftest import Api
from tests.support.forms import csrf_from
from tests.support.smtp import parts

RATING_LINK = re.compile(r"http://returns\.test(/feedback/[A-Za-z0-9_.\-]+/[1-5])\b")


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: Any) -> dict[str, Any]:
    app_config["SMTP_URL"] = smtp_server.url
    return app_config


@pytest.fixture
def rejected(api: Api, make_return: Any) -> str:
    rma = make_return()["rma"]
    response = api.post(f"/api/v1/returns/{rma}/reject", as_="agent",
                        json={"reason": "used", "note": "Worn."})
    assert response.status_code == 200
    return str(rma)


def feedback_row(app: Any) -> Feedback | None:
    with app.app_context():
        row = db.session.scalar(select(Feedback))
        db.session.expunge_all()
        return row


def test_one_click_rating_from_the_email_asks_to_confirm_then_records(
        app: Any, client: Any, rejected: str, smtp_server: Any) -> None:
    email = smtp_server.with_subject("About your return request")[0]
    text, _ = parts(email)
    links = RATING_LINK.findall(text)
    four = next(link for link in links if link.endswith("/4"))

    page = client.get(four)  # what a mail scanner or a click does: nothing is recorded yet
    assert page.status_code == 200
    assert b"4 out of 5 (Good)" in page.data and b"Send my rating" in page.data
    assert feedback_row(app) is None

    saved = client.post(four, data={"csrf_token": csrf_from(page.data)})
    assert saved.status_code == 200 and b"Thank you!" in saved.data
    row = feedback_row(app)
    assert row is not None and (row.rating, row.source, row.nps) == (4, "email", None)

    two = next(link for link in links if link.endswith("/2"))
    client.post(two, data={"csrf_token": csrf_from(client.get(two).data)})
    row = feedback_row(app)
    assert row is not None and row.rating == 2  # updatable; still one row per return
    with app.app_context():
        assert db.session.query(Feedback).count() == 1


def test_survey_with_comment_and_nps_and_field_errors(
        app: Any, client: Any, rejected: str) -> None:
    with app.test_request_context():
        path = feedback_url(rejected).removeprefix("http://returns.test")
    page = client.get(path)
    assert page.status_code == 200 and b"How likely are you to recommend us" in page.data
    token = csrf_from(page.data)

    bad = client.post(path, data={"csrf_token": token, "nps": "7", "comment": "Quick."})
    assert bad.status_code == 422
    assert b"Choose a rating from 1 to 5." in bad.data and b"error-summary" in bad.data
    assert b"Quick." in bad.data  # what the customer typed is kept
    assert feedback_row(app) is None

    ok = client.post(path, data={"csrf_token": token, "rating": "3", "nps": "7",
                                 "comment": "Fast, but the reason was unclear."})
    assert ok.status_code == 200 and b"Thank you!" in ok.data
    row = feedback_row(app)
    assert row is not None
    assert (row.rating, row.nps, row.comment, row.source) == (
        3, 7, "Fast, but the reason was unclear.", "survey")
    again = client.get(path)
    assert b'value="7" checked' in again.data  # the page shows the saved answer


def test_feedback_links_are_signed_and_distinct_from_status_links(
        app: Any, client: Any, rejected: str) -> None:
    with app.test_request_context():
        forged = "/feedback/" + status_token(rejected)  # a valid status token, wrong salt
        good = rating_url(rejected, 5).removeprefix("http://returns.test")
    assert client.get(forged).status_code == 404
    assert client.get(good[:-12] + "AAAAAAAA/5").status_code == 404
    assert client.get(good[:-1] + "9").status_code == 404  # no 9 out of 5


def test_a_return_still_in_progress_cannot_be_rated(
        app: Any, client: Any, make_return: Any) -> None:
    rma = make_return()["rma"]
    with app.test_request_context():
        path = rating_url(rma, 5).removeprefix("http://returns.test")
    page = client.get(path)
    assert b"once it is complete" in page.data and b"Send my rating" not in page.data
    with app.app_context():
        from returns_service.feedback.services import record_feedback, return_for_feedback

        with pytest.raises(ValidationFailed) as exc:
            record_feedback(return_for_feedback(rma), rating=5)
    assert exc.value.errors == {"rating": ["You can rate your return once it is complete."]}
    assert feedback_row(app) is None


@pytest.mark.browser
def test_rating_and_survey_in_a_real_browser_on_a_phone(
        app: Any, page: Any, rejected: str, smtp_server: Any) -> None:
    from tests.support.browser import screenshot

    text, _ = parts(smtp_server.with_subject("About your return request")[0])
    five = re.search(r"(http://127\.0\.0\.1:\d+/feedback/[A-Za-z0-9_.\-]+/5)\b", text)
    assert five, text  # the email links to this server (PUBLIC_BASE_URL)
    page.goto(five.group(1))
    page.get_by_role("button", name="Send my rating").click()
    page.get_by_text("Thank you! Your feedback is saved.").wait_for()
    page.get_by_label("9", exact=True).check()
    page.get_by_label("Anything we could do better? (optional)").fill("Kind and quick.")
    page.get_by_role("button", name="Send feedback").click()
    page.get_by_text("Thank you! Your feedback is saved.").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    screenshot(page, "feedback-survey")
    row = feedback_row(app)
    assert row is not None and (row.rating, row.nps, row.comment) == (5, 9, "Kind and quick.")
