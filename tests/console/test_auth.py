"""Console sign-in and sign-out, session cookies, CSRF on POSTs."""

from __future__ import annotations

from typing import Any

from returns_service.db import db
from returns_service.staff.services import create_user
from tests.support.console import csrf_from, extra_app, login, state, token


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
        "email": "warehouse@shop.test", "password": "password-warehouse"})
    assert response.headers["Location"] == "/staff/"
    client.post("/staff/logout", data={"csrf_token": token(client)})
    page = client.get("/staff/login")
    response = client.post("/staff/login", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "next": "/staff/receiving",
        "email": "warehouse@shop.test", "password": "password-warehouse"})
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
                                              "password": "password-agent"}).status_code == 400
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


def test_password_guessing_is_limited_per_address_and_per_account_and_address(app_config,
                                                                            tokens):
    """Without a limit, anyone reaching /staff/login could try admin passwords for ever."""
    with extra_app({**app_config, "RATELIMIT_ENABLED": True,
                    "RATELIMIT_LOGIN": "3 per minute"}) as limited:
        def sign_in(address: str, email: str, password: str, text: bool = False) -> Any:
            client = limited.test_client()  # a new browser each time
            page = client.get("/staff/login", environ_base={"REMOTE_ADDR": address})
            answer = client.post("/staff/login", environ_base={"REMOTE_ADDR": address}, data={
                "csrf_token": csrf_from(page.get_data(as_text=True)), "email": email,
                "password": password})
            return answer.get_data(as_text=True) if text else answer.status_code

        guesses = [sign_in("192.0.2.1", "admin@shop.test", f"guess-{n}") for n in range(3)]
        assert guesses == [401, 401, 401]
        refused = sign_in("192.0.2.1", "admin@shop.test", "password-admin")
        assert refused == 429  # even the right password, until the minute is over
        # The owner, from another address, is not locked out by someone else's guesses...
        assert sign_in("192.0.2.2", "Admin@shop.test ", "password-admin") == 302
        # ...and another account from a fresh address is not affected.
        assert sign_in("192.0.2.3", "agent@shop.test", "password-agent") == 302
        # A shared office (one address) signing in at shift start: successes do not count.
        for _ in range(5):
            assert sign_in("192.0.2.4", "warehouse@shop.test", "password-warehouse") == 302
        assert "Too many sign-in attempts" in sign_in("192.0.2.1", "warehouse@shop.test", "x",
                                                      text=True)


def test_short_passwords_are_refused_on_every_path(app):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["users", "create", "kim@shop.test", "--role", "admin",
                                  "--password", "a"])
    assert created.exit_code != 0 and "Use at least 12 characters." in created.output
    runner.invoke(args=["users", "create", "kim@shop.test", "--role", "admin"])
    changed = runner.invoke(args=["users", "set-password", "kim@shop.test"],
                            input="b\nb\n")
    assert changed.exit_code != 0 and "Use at least 12 characters." in changed.output


def test_a_copied_session_cookie_stops_working_on_sign_out_and_password_change(
        app, client, tokens):
    """Cookies are signed, not stored: a copy (a shared terminal, a leaked log) used to keep
    working for the session's whole lifetime after the user signed out."""
    from returns_service.staff.models import StaffUser
    from returns_service.staff.services import set_password

    def copy_of(source) -> Any:
        other = app.test_client()
        other.set_cookie("session", source.get_cookie("session").value)
        return other

    login(client, "admin")
    copy = copy_of(client)
    laptop = app.test_client()  # the same admin, signed in on another device
    login(laptop, "admin")
    assert copy.get("/staff/users").status_code == 200  # the copy works while signed in
    client.post("/staff/logout", data={"csrf_token": token(client)})
    assert copy.get("/staff/users").status_code == 302  # to the sign-in page
    assert laptop.get("/staff/users").status_code == 200  # only that session ended

    login(client, "admin")
    copy = copy_of(client)
    with app.app_context():
        set_password(db.session.scalar(db.select(StaffUser).filter_by(
            email="admin@shop.test")), "a-new-long-password")
        db.session.commit()
    assert copy.get("/staff/users").status_code == 302
    assert laptop.get("/staff/users").status_code == 302  # a new password ends them all
    assert login(client, "admin", "a-new-long-password").status_code == 302
