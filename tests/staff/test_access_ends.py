"""Access that ends stays ended: disabling a user ends their console sessions and revokes
their API tokens for good; a new password does the same; tokens may expire; admins see when
each token was last used."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from returns_service.common import clock
from returns_service.db import db
from returns_service.staff import services as staff
from returns_service.staff.models import ApiToken, StaffUser
from tests.reliability.sqlcount import count_queries
from tests.support.console import login, token


def user_id(app: Any, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(StaffUser.id).where(StaffUser.email == email))


def set_active(admin: Any, uid: int, active: bool) -> Any:
    data = {"csrf_token": token(admin)}
    if active:
        data["active"] = "y"
    return admin.post(f"/staff/users/{uid}/active", data=data)


def api_ok(client: Any, bearer: str) -> int:
    return client.get("/api/v1/returns", headers={"Authorization": f"Bearer {bearer}"}
                      ).status_code


def test_reenabling_a_user_brings_back_neither_old_cookies_nor_old_tokens(app, tokens):
    agent, admin = app.test_client(), app.test_client()
    login(agent, "agent")
    copied = app.test_client()
    copied.set_cookie("session", agent.get_cookie("session").value)
    assert copied.get("/staff/returns").status_code == 200
    assert api_ok(app.test_client(), tokens["agent"]) == 200

    login(admin, "admin")
    uid = user_id(app, "agent@shop.test")
    assert set_active(admin, uid, False).status_code == 302
    assert copied.get("/staff/returns").status_code == 302
    assert api_ok(app.test_client(), tokens["agent"]) == 401
    assert set_active(admin, uid, True).status_code == 302

    assert copied.get("/staff/returns").status_code == 302  # to the sign-in page
    assert agent.get("/staff/returns").status_code == 302
    assert api_ok(app.test_client(), tokens["agent"]) == 401
    login(agent, "agent")  # signing in again works, as the user they are again
    assert agent.get("/staff/returns").status_code == 200


def test_a_new_password_revokes_the_users_tokens(app, tokens):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "set-password", "agent@shop.test"],
                           input="Tangerine-Orbit-Kettle-19\nTangerine-Orbit-Kettle-19\n")
    assert result.exit_code == 0, result.output
    assert "1 API token(s) revoked" in result.output
    assert api_ok(app.test_client(), tokens["agent"]) == 401
    assert api_ok(app.test_client(), tokens["admin"]) == 200  # others keep theirs


def test_a_token_with_an_expiry_stops_working_then(app, tokens):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tokens", "create", "integration@shop.test",
                                 "--expires-in-days", "30"])
    assert result.exit_code == 0, result.output
    minted = result.output.strip().splitlines()[-1]
    client = app.test_client()
    assert api_ok(client, minted) == 200
    clock.freeze(clock.utcnow() + timedelta(days=29, hours=23))
    assert api_ok(client, minted) == 200
    clock.freeze(clock.utcnow() + timedelta(hours=2))
    assert api_ok(client, minted) == 401
    assert api_ok(client, tokens["integration"]) == 200  # no expiry: still works
    bad = runner.invoke(args=["tokens", "create", "integration@shop.test",
                              "--expires-in-days", "0"])
    assert bad.exit_code != 0


def test_last_use_is_written_at_most_once_a_minute_and_shown_to_admins(app, tokens,
                                                                      frozen_now):
    client = app.test_client()

    def last_used() -> Any:
        with app.app_context():
            return db.session.scalar(select(ApiToken.last_used_at).join(StaffUser).where(
                StaffUser.email == "integration@shop.test"))

    assert last_used() is None
    assert api_ok(client, tokens["integration"]) == 200
    assert last_used() == frozen_now
    with app.app_context():
        engine = db.engine
    clock.freeze(frozen_now + timedelta(seconds=30))
    with count_queries(engine) as log:
        assert api_ok(client, tokens["integration"]) == 200
    assert not [s for s in log.statements if s.lstrip().upper().startswith("UPDATE")]
    assert last_used() == frozen_now
    clock.freeze(frozen_now + timedelta(seconds=61))
    assert api_ok(client, tokens["integration"]) == 200
    assert last_used() == frozen_now + timedelta(seconds=61)

    admin = app.test_client()
    login(admin, "admin")
    page = admin.get("/staff/users").get_data(as_text=True)
    assert f"last used {(frozen_now + timedelta(seconds=61)):%Y-%m-%d %H:%M} UTC" in page
    assert "never used" in page  # the other tokens


def test_staff_emails_need_a_real_domain_and_passwords_must_be_hard_to_guess(app):
    with app.app_context():
        for email in ("x@y", "a@b.", "a b@shop.test", "@shop.test", "a..b@shop.test",
                      "kim@-shop.test", "kim@shop.c"):
            try:
                staff.create_user(email, "agent", "Tangerine-Orbit-Kettle-19")
            except staff.ValidationFailed as exc:
                assert "email" in exc.errors, email
            else:
                raise AssertionError(f"{email} was accepted")
        for weak in ("aaaaaaaaaaaa", "123456789012", "passwordpassword", "kim@shop.test1"):
            try:
                staff.create_user("kim@shop.test", "agent", weak)
            except staff.ValidationFailed as exc:
                assert "too easy to guess" in exc.errors["password"][0], weak
            else:
                raise AssertionError(f"{weak!r} was accepted")
        user = staff.create_user("kim.o'neil+ops@eu.shop.test", "agent",
                                 "Tangerine-Orbit-Kettle-19")
        assert user.email == "kim.o'neil+ops@eu.shop.test"
        db.session.rollback()


def test_weak_passwords_are_refused_on_the_console_and_the_cli(app, tokens):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["users", "create", "kim@shop.test", "--role", "agent",
                                  "--password", "aaaaaaaaaaaa"])
    assert created.exit_code != 0 and "too easy to guess" in created.output
    admin = app.test_client()
    login(admin, "admin")
    page = admin.post("/staff/users", data={
        "csrf_token": token(admin), "email": "x@y", "role": "agent",
        "password": "aaaaaaaaaaaa"})
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "too easy to guess" in text and "Not a valid email address" in text
