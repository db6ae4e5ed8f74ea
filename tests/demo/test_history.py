"""`flask demo seed --history`: 90 days of returns a store would have, once only."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from returns_service import create_app
from returns_service.db import db
from returns_service.demo import seed
from returns_service.demo.history import HISTORY_DAYS, seed_history
from returns_service.feedback.models import Feedback
from returns_service.notifications.models import Notification
from returns_service.outbox.models import OutboxMessage
from returns_service.returns.models import Return
from tests.conftest import base_config, clear_tables
from tests.support.browser import publish_screenshot, screenshot


def login_as_demo_admin(client: Any) -> None:
    from tests.support.forms import csrf_from

    page = client.get("/staff/login").get_data(as_text=True)
    client.post("/staff/login", data={"csrf_token": csrf_from(page),
                                      "email": "admin@example.com",
                                      "password": "demo-returns-2026"})


@pytest.fixture(scope="module")
def history_app(database_url: str) -> Iterator[Flask]:
    """The demo as `flask demo seed --history` leaves it, seeded up to the real now (the
    dashboard's default period is the last 28 days): seeded once for this module's tests,
    which only read it (seeding 90 days takes about 12 s)."""
    application = create_app(base_config(database_url))
    with application.app_context():
        clear_tables()
        seed()
        application.extensions["history_line"] = seed_history()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def app(history_app: Flask) -> Flask:
    """This module's tests (and the live server) use the seeded app."""
    return history_app


@pytest.fixture
def seeded(history_app: Flask) -> dict[str, Any]:
    return {"line": history_app.extensions["history_line"]}


def counts(app: Any) -> dict[str, int]:
    with app.app_context():
        return dict(db.session.execute(
            select(Return.status, func.count()).group_by(Return.status)).all())


def test_the_history_spreads_every_outcome_over_90_days(app, seeded):
    by_status = counts(app)
    assert sum(by_status.values()) >= 250
    assert by_status["refunded"] > sum(by_status.values()) / 2
    for status in ("rejected", "cancelled", "expired", "closed", "approved"):
        assert by_status.get(status, 0) > 0, by_status
    assert "refund_pending" not in by_status  # no refund left waiting for a job never run
    now = datetime.now(UTC)
    with app.app_context():
        created = list(db.session.scalars(select(Return.created_at)))
    assert min(created) >= now - timedelta(days=HISTORY_DAYS + 1)
    assert max(created) <= now
    weeks = {(now - moment).days // 7 for moment in created}
    assert len(weeks) >= 12  # every week of the 90 days has returns
    assert re.match(r"History: \d+ returns over the last 90 days", seeded["line"])
    print(seeded["line"])


def test_the_history_has_ratings_and_nps_answers_but_sent_no_email(app, seeded):
    with app.app_context():
        answers = db.session.scalar(select(func.count(Feedback.id)))
        nps = db.session.scalar(select(func.count(Feedback.id)).where(Feedback.nps.isnot(None)))
        ratings = set(db.session.scalars(select(Feedback.rating)))
        unsent = db.session.scalar(select(func.count(Notification.id)).where(
            Notification.status.notin_(("skipped",))))
        waiting = db.session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.processed_at.is_(None)))
    assert answers >= 50 and nps >= 30 and ratings == {1, 2, 3, 4, 5}
    # Its emails are its past: none waits to flood the Demo mailbox, no job waits to run.
    assert unsent == 0 and waiting == 0


def test_the_dashboard_shows_the_history(app, client, seeded):
    login_as_demo_admin(client)
    page = client.get("/staff/dashboard")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.get_data(as_text=True)))
    assert "No returns in this period" not in text and "No data in this period" not in text
    assert re.search(r"\d+ promoters, \d+ passives, \d+ detractors", text)
    rows = dict(list(csv.reader(io.StringIO(
        client.get("/staff/dashboard.csv").get_data(as_text=True))))[1:])
    assert int(rows["volume.requested"]) >= 40  # 28 days of a store's returns
    assert int(rows["satisfaction.csat.responses"]) > 0
    queue = client.get("/staff/returns").get_data(as_text=True)
    assert "No returns" not in queue


def test_seeding_twice_adds_nothing(app, seeded):
    before = counts(app)
    with app.app_context():
        feedback = db.session.scalar(select(func.count(Feedback.id)))
        again = seed_history()
        assert db.session.scalar(select(func.count(Feedback.id))) == feedback
    assert again.startswith("History: already seeded")
    assert counts(app) == before


@pytest.mark.browser
def test_the_dashboard_with_history_in_chromium(app, seeded, page, live_server):
    """Also the documentation's dashboard screenshot (UPDATE_DOCS_SCREENSHOTS=1)."""
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto("/staff/login")
    page.get_by_label("Email").fill("admin@example.com")
    page.get_by_label("Password").fill("demo-returns-2026")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Service quality")).to_be_visible()
    expect(page.get_by_role("img", name="Weekly customer satisfaction (CSAT)")).to_be_visible()
    expect(page.get_by_text("No data in this period")).to_have_count(0)
    publish_screenshot(screenshot(page, "demo-dashboard"), "dashboard.png")
