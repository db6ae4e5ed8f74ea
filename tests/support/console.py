"""Helpers for console tests: sign in through the real form, read CSRF tokens from pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from returns_service.db import db
from returns_service.returns.models import Return
from returns_service.returns.services import get_return
from tests.support.forms import csrf_from


def login(client: FlaskClient, role: str, password: str | None = None) -> Any:
    """Sign in as <role>@shop.test (users from the `tokens` fixture) via the login form."""
    page = client.get("/staff/login")
    return client.post("/staff/login", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "email": f"{role}@shop.test", "password": password or f"password-{role}"})


def token(client: FlaskClient) -> str:
    """A CSRF token for the signed-in client's session (the sign-out form carries one)."""
    return csrf_from(client.get("/staff/", follow_redirects=True).get_data(as_text=True))


def state(app: Flask, rma: str) -> tuple[str, int]:
    """(status, version) of a return, read in a fresh session."""
    with app.app_context():
        ret: Return = get_return(rma)
        result = (ret.status, ret.version)
        db.session.rollback()
    return result


@contextmanager
def extra_app(config: dict[str, Any]) -> Iterator[Flask]:
    """A second app on the same database with other settings; its pool is closed after."""
    from returns_service import create_app

    other = create_app(config)
    try:
        yield other
    finally:
        with other.app_context():
            db.engine.dispose()
