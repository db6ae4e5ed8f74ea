"""The staff dashboard: who may see it, what it shows, and that it stays CSP-clean."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from returns_service.db import db
from returns_service.staff.models import StaffUser
from tests.reports.history import policy_file, seed_history
from tests.support.browser import screenshot

PERIOD = {"from": "2026-03-02", "to": "2026-03-16"}


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    app_config["RETURN_POLICY_FILE"] = policy_file(tmp_path)
    return app_config


def user_id(app: Any, role: str) -> str:
    """A console session of this user, started as sign-in does: what its cookie names."""
    from returns_service.staff.services import start_session

    with app.app_context():
        user = db.session.query(StaffUser).filter_by(email=f"{role}@shop.test").one()
        start_session(user)
        db.session.commit()
        return user.get_id()


def log_in(client: Any, app: Any, role: str) -> None:
    uid = user_id(app, role)
    with client.session_transaction() as session:
        session["_user_id"] = uid
        session["_fresh"] = True


@pytest.fixture
def history(app: Any, api: Any, make_order: Any) -> dict[str, str]:
    return seed_history(app, api, make_order)


def test_dashboard_needs_a_logged_in_agent_or_admin(client, app, tokens):
    anonymous = client.get("/staff/dashboard")
    # 401, or a redirect to the sign-in page once the staff console sets a login view.
    assert anonymous.status_code in (401, 302)
    assert anonymous.status_code == 401 or "login" in anonymous.headers["Location"]
    log_in(client, app, "warehouse")
    refused = client.get("/staff/dashboard")
    assert refused.status_code == 403
    assert "Not allowed for your role" in refused.text  # the console's page, not a bare 403
    assert 'href="/staff/dashboard"' not in client.get("/staff/receiving").text
    assert client.get("/staff/dashboard.csv").status_code == 403
    log_in(client, app, "admin")
    page = client.get("/staff/dashboard")
    assert page.status_code == 200
    # In the console: its navigation (with the dashboard in it) and sign-out.
    assert ('href="/staff/dashboard" aria-current="page">Dashboard</a>' in page.text
            and "Sign out" in page.text)
    assert 'href="/staff/dashboard">Dashboard</a>' in client.get("/staff/returns").text


def test_dashboard_shows_the_figures_charts_and_data_tables(client, app, history):
    log_in(client, app, "agent")
    response = client.get("/staff/dashboard", query_string=PERIOD)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", html)
    text = re.sub(r"\s+", " ", text)

    assert "First response by staff 4 4.0 h 22.5 h" in text
    assert "First response by auto-approve policy 1 0 min 0 min" in text
    assert "Refund (received to refunded) 1 4.0 h 4.0 h" in text
    assert "€25.00" in text
    assert "2 promoters, 0 passives, 1 detractors" in text
    # Three accessible charts, each titled and described, and tables with the same figures.
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 3
    for chart in ("chart-times", "chart-reasons", "chart-csat"):
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in html
        assert f'<title id="{chart}-title">' in html
    assert "<td>Doesn&#39;t fit</td><td class=\"num\">4</td>" in html  # the policy's label
    # Strict CSP: no inline script or style anywhere.
    assert "<script" not in html and "style=" not in html and "<style" not in html


def test_dashboard_csv_matches_the_api_export(client, app, api, history):
    log_in(client, app, "agent")
    page_csv = client.get("/staff/dashboard.csv", query_string=PERIOD)
    api_csv = api.get("/api/v1/reports/service.csv", as_="agent", query=PERIOD)
    assert page_csv.status_code == 200
    assert page_csv.data == api_csv.data
    rows = dict(list(csv.reader(io.StringIO(page_csv.get_data(as_text=True))))[1:])
    assert rows["volume.requested"] == "6"


def test_a_period_with_times_keeps_them_in_its_heading_and_csv_link(client, app, history):
    """From noon: the page's figures and its "Download CSV" must cover the same moments."""
    log_in(client, app, "agent")
    query = {"from": "2026-03-02T12:00:00", "to": "2026-03-09T00:00:00"}
    page = client.get("/staff/dashboard", query_string=query).get_data(as_text=True)
    assert "2026-03-02 12:00 to 2026-03-09 (end excluded, UTC)" in page
    link = re.search(r'href="(/staff/dashboard\.csv\?[^"]+)"', page).group(1)
    from_link = client.get(link.replace("&amp;", "&"))
    assert from_link.data == client.get("/staff/dashboard.csv", query_string=query).data


def test_a_bad_period_shows_the_error_and_falls_back(client, app, tokens):
    log_in(client, app, "agent")
    response = client.get("/staff/dashboard", query_string={"from": "2026-03-09",
                                                            "to": "2026-03-02"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The period could not be used" in html
    assert "Must be after &#39;from&#39;." in html or "Must be after 'from'." in html
    assert 'id="period-to"' in html


@pytest.mark.browser
def test_dashboard_in_chromium(app, api, make_order, history, page, live_server):
    from flask.sessions import SecureCookieSessionInterface

    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    cookie = serializer.dumps({"_user_id": user_id(app, "agent"), "_fresh": True})
    page.context.add_cookies([{"name": app.config.get("SESSION_COOKIE_NAME", "session"),
                               "value": cookie, "url": live_server.url}])
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto("/staff/dashboard?from=2026-03-02&to=2026-03-16")

    expect(page.get_by_role("heading", name="Service quality")).to_be_visible()
    expect(page.get_by_role("img", name="Weekly median first response and resolution time")
           ).to_be_visible()
    expect(page.get_by_role("img", name="Returns by reason")).to_be_visible()
    expect(page.get_by_role("img", name="Weekly customer satisfaction (CSAT)")).to_be_visible()
    box = page.locator("#chart-times").bounding_box()
    assert box is not None and 300 < box["width"] <= 390  # fits the phone screen
    page.get_by_text("Weekly figures as a table (medians)").click()
    expect(page.get_by_role("cell", name="2026-03-09")).to_be_visible()
    assert [e for e in errors if "Content Security Policy" in e] == []
    # The documentation's screenshot is the demo's, with 90 days of history
    # (tests/demo/test_history.py); this small history stays an artifact.
    screenshot(page, "dashboard")


def test_an_empty_period_says_so_instead_of_drawing_empty_charts(client, app, tokens):
    log_in(client, app, "agent")
    html = client.get("/staff/dashboard", query_string={"from": "2025-01-06",
                                                        "to": "2025-01-20"}).get_data(as_text=True)
    assert html.count("No data in this period") == 2  # times and CSAT charts
    assert "No returns in this period" in html
    assert "Nothing open." in html
