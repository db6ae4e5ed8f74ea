"""Shared fixtures: the app on a real database, clean tables per test, staff tokens, orders.

Which database: TEST_DATABASE_URL (PostgreSQL in CI), else a SQLite file per test session.
Which Redis: TEST_REDIS_URL; without it, tests marked `redis` are deselected (not skipped),
and so are tests marked `postgres` when the database is SQLite.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from returns_service import create_app
from returns_service.common import clock
from returns_service.db import db
from returns_service.staff import services as staff

# Fixtures of real parts, each a plugin of its own: Chromium, an SMTP server, Stripe and
# Twilio fakes.
pytest_plugins = ["tests.support.browser", "tests.support.smtp", "tests.support.stripe",
                  "tests.support.databases", "tests.support.checkout",
                  "tests.support.receiver", "tests.support.twilio", "tests.support.easypost",
                  "tests.support.s3", "tests.support.workers"]

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
ON_POSTGRES = bool(TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgres"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect tests whose service this run does not have (so nothing shows as skipped)."""
    keep, drop = [], []
    for item in items:
        if (item.get_closest_marker("postgres") and not ON_POSTGRES) or (
                item.get_closest_marker("redis") and not TEST_REDIS_URL):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Build the schema once per session with the real migrations (`flask db upgrade`)."""
    from flask_migrate import upgrade

    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "REDIS_URL": None})
    with app.app_context():
        if ON_POSTGRES:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()
    return url


def clear_tables() -> None:
    """DELETE, children first: on a few small tables it is much faster than TRUNCATE."""
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def app_config(database_url: str, tmp_path: Any) -> dict[str, Any]:
    """Settings for the app under test; a test may change them before `app` is built."""
    return base_config(database_url)


def base_config(database_url: str) -> dict[str, Any]:
    """The tests' settings (`app_config`, and apps a module builds once for its tests)."""
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "REDIS_URL": None,
        "PUBLIC_BASE_URL": "http://returns.test",
        "TESTING": True,
        "RATELIMIT_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast; production keeps scrypt
    }


RESOLUTIONS_POLICY = """
[store_credit]
enabled = true
bonus_percent = 10
convertible_to_refund = true

[keep_item]
enabled = true
max_unit_price = { EUR = 3000 }
reasons = ["damaged", "wrong_item"]
max_per_customer = 1
period_days = 90

[adjustments]
agent_limit = { EUR = 2000 }
"""


@pytest.fixture
def resolutions_config(app_config: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    """A return policy that offers every resolution: store credit with a 10 % bonus,
    keep-the-item for items up to €30 returned for the merchant's fault (one per customer in
    90 days), and agents adjusting up to €20. Ask for it before `app`."""
    path = tmp_path / "policy.toml"
    path.write_text(RESOLUTIONS_POLICY)
    app_config["RETURN_POLICY_FILE"] = str(path)
    return app_config


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    """The app on clean tables. No app context stays pushed, so each request (and each
    `with app.app_context()` block in a test) gets its own session, as in production."""
    application = create_app(app_config)
    with application.app_context():
        clear_tables()
    yield application
    with application.app_context():
        db.engine.dispose()
    clock.freeze(None)


@pytest.fixture
def build_app(app_config: dict[str, Any]) -> Iterator[Any]:
    """Build extra apps with changed settings; their connection pools are closed after."""
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        built.append(create_app({**app_config, **overrides}))
        return built[-1]

    yield build
    for extra in built:
        with extra.app_context():
            for engine in db.engines.values():  # the replica's too (REPORTS_DATABASE_URL)
                engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def frozen_now() -> Iterator[Any]:
    """Freeze the service clock at a fixed instant; tests move it with clock.freeze()."""
    from datetime import UTC, datetime

    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    clock.freeze(now)
    yield now
    clock.freeze(None)


class Api:
    """Calls the JSON API as a given staff role (or anonymously) and checks content types."""

    def __init__(self, client: FlaskClient, tokens: dict[str, str]):
        self.client = client
        self.tokens = tokens

    def call(self, method: str, path: str, *, as_: str | None = None, json: Any = None,
             headers: dict[str, str] | None = None, query: dict[str, Any] | None = None) -> Any:
        all_headers = dict(headers or {})
        if as_:
            all_headers["Authorization"] = f"Bearer {self.tokens[as_]}"
        response = self.client.open(path, method=method, json=json, headers=all_headers,
                                    query_string=query)
        if response.status_code >= 400 and path.startswith("/api/"):
            assert response.mimetype == "application/problem+json", response.data
        return response

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.call("POST", path, **kw)


@pytest.fixture
def tokens(app: Flask) -> dict[str, str]:
    """One staff user and API token per role, keyed by role."""
    result = {}
    with app.app_context():
        for role in ("admin", "agent", "warehouse", "integration"):
            user = staff.create_user(f"{role}@shop.test", role, "password-" + role, role.title())
            result[role] = staff.mint_token(user, "tests")
        db.session.commit()
    return result


@pytest.fixture
def api(client: FlaskClient, tokens: dict[str, str]) -> Api:
    return Api(client, tokens)


def order_payload(number: str = "A1001", **overrides: Any) -> dict[str, Any]:
    """An order as the store would send it: delivered 5 days ago, one final-sale line."""
    now = clock.utcnow()
    data: dict[str, Any] = {
        "number": number, "email": "jane@example.com", "customer_name": "Jane Doe",
        "currency": "EUR",
        "placed_at": (now - timedelta(days=8)).isoformat(),
        "delivered_at": (now - timedelta(days=5)).isoformat(),
        "channel": "web", "shipping_total": 500,
        "payment": {"provider": "stripe", "payment_intent": "pi_test_" + number},
        "lines": [
            {"sku": "SHIRT", "name": "Shirt", "quantity": 2, "unit_price": 2500},
            {"sku": "JEANS", "name": "Jeans", "quantity": 1, "unit_price": 8000},
            {"sku": "SOCKS", "name": "Socks", "quantity": 3, "unit_price": 500,
             "final_sale": True},
        ],
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_order(api: Api) -> Any:
    """Import an order through the API (as the store integration would)."""

    def make(number: str = "A1001", **overrides: Any) -> dict[str, Any]:
        response = api.post("/api/v1/orders", as_="integration",
                            json=order_payload(number, **overrides))
        assert response.status_code in (200, 201), response.json
        return response.json

    return make


@pytest.fixture
def make_return(api: Api, make_order: Any) -> Any:
    """Request a return as the customer; returns the API's JSON answer."""

    def make(number: str = "A1001", items: list[dict[str, Any]] | None = None,
             email: str = "jane@example.com", order: bool = True) -> dict[str, Any]:
        if order:
            make_order(number)
        body = {"order_number": number, "email": email,
                "items": items or [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]}
        response = api.post("/api/v1/returns", json=body)
        assert response.status_code == 201, response.json
        return response.json

    return make

