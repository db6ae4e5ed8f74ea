"""Console sign-in and sign-out, session cookies, CSRF on POSTs."""

from __future__ import annotations

from returns_service.extensions import db
from returns_service.staff.services import create_user
from tests.console_helpers import csrf_from, extra_app, login, state, token


def test_anonymous_visitors_are_sent_to_the_login_page(client, tokens):
    response = client.get("/staff/returns?status=all")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login?next=")


def test_agent_signs_in_lands_on_the_queue_and_signs_out(client, tokens):
    response = login(client, "agent")
    assert response.status_code == 302
    queue = client.get("/staff/", follow_redirects=True)
    assert "Returns queue" in queue.get_data(as_text=True)
    assert "agent@shop.test (agent)" in queue.get_data(as_text=True)

    bye = client.post("/staff/logout", data={"csrf_token": token(client)})
    assert bye.status_code == 302
    assert client.get("/staff/returns").status_code == 302  # back to the login page


def test_login_follows_next_only_within_the_site(client, tokens):
    page = client.get("/staff/login?next=/staff/receiving")
    response = client.post("/staff/login", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "next": "//evil.example/x",
        "email": "warehouse@shop.test", "password": "pw-warehouse"})
    assert response.headers["Location"] == "/staff/"
    client.post("/staff/logout", data={"csrf_token": token(client)})
    page = client.get("/staff/login")
    response = client.post("/staff/login", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "next": "/staff/receiving",
        "email": "warehouse@shop.test", "password": "pw-warehouse"})
    assert response.headers["Location"] == "/staff/receiving"


def test_wrong_password_and_integration_accounts_are_refused(client, tokens):
    wrong = login(client, "agent", password="nope")
    assert wrong.status_code == 401
    assert "do not match an active staff account" in wrong.get_data(as_text=True)
    machine = login(client, "integration")
    assert machine.status_code == 401
    assert "API access only" in machine.get_data(as_text=True)
    assert client.get("/staff/returns").status_code == 302


def test_session_cookie_is_httponly_and_samesite(client, tokens):
    response = login(client, "agent")
    cookie = "; ".join(response.headers.getlist("Set-Cookie"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in this test


def test_session_cookie_is_secure_behind_https(app_config, tokens):
    app_config["PUBLIC_BASE_URL"] = "https://returns.example"
    with extra_app(app_config) as secure_app:
        response = login(secure_app.test_client(), "agent")
    assert "Secure" in "; ".join(response.headers.getlist("Set-Cookie"))


def test_post_without_csrf_token_is_refused_and_changes_nothing(app, client, make_return):
    rma = make_return()["rma"]
    login(client, "agent")
    before = state(app, rma)
    response = client.post(f"/staff/returns/{rma}/approve", data={"expected_version": "1"})
    assert response.status_code == 400
    assert state(app, rma) == before == ("requested", 1)
    page = response.get_data(as_text=True)  # a page left open for hours: say so, link back
    assert "Nothing was changed" in page
    assert f'href="/staff/returns/{rma}"' in page


def test_login_needs_a_csrf_token_and_sign_out_works_from_a_stale_page(client, tokens):
    assert client.post("/staff/login", data={"email": "agent@shop.test",
                                              "password": "pw-agent"}).status_code == 400
    login(client, "agent")
    # A shared warehouse terminal, a page open since the morning: its token has expired,
    # and "Sign out" must still sign out (SameSite=Lax keeps other sites from posting it).
    assert client.post("/staff/logout", data={"csrf_token": "expired"}).status_code == 302
    assert client.get("/staff/returns").status_code == 302  # signed out


def test_a_user_disabled_mid_session_is_signed_out(app, client, tokens):
    login(client, "agent")
    assert client.get("/staff/returns").status_code == 200
    with app.app_context():
        from returns_service.staff.models import StaffUser

        db.session.query(StaffUser).filter_by(email="agent@shop.test").update({"active": False})
        db.session.commit()
    assert client.get("/staff/returns").status_code == 302
    assert login(client, "agent").status_code == 401


def test_staff_without_password_cannot_sign_in(app, client, tokens):
    with app.app_context():
        create_user("nopw@shop.test", "agent")
        db.session.commit()
    page = client.get("/staff/login")
    response = client.post("/staff/login", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "email": "nopw@shop.test", "password": ""})
    assert response.status_code == 422
