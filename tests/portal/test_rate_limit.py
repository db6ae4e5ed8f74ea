"""Lookups (order + email, return code + email) are rate limited per client address, on the
portal's forms and the public API alike, with one budget."""

from __future__ import annotations

import uuid

import pytest

from returns_service.db import db
from returns_service.http.extensions import limiter
from tests.conftest import TEST_REDIS_URL
from tests.portal.conftest import csrf_token


def lookups(client, address: str, count: int) -> list[int]:
    """POST `count` wrong lookups, alternating between the two lookup forms."""
    env = {"REMOTE_ADDR": address}
    token = csrf_token(client, "/")
    codes = []
    for n in range(count):
        if n % 2:
            data = {"rma": "R-ZZZZZZ", "email": "guess@example.com", "csrf_token": token}
            codes.append(client.post("/returns/find", data=data, environ_base=env).status_code)
        else:
            data = {"order_number": f"G{n}", "email": "guess@example.com", "csrf_token": token}
            codes.append(client.post("/", data=data, environ_base=env).status_code)
    return codes


@pytest.fixture
def limited(app_config):
    app_config.update(RATELIMIT_ENABLED=True, RATELIMIT_LOOKUP="3 per minute")
    return app_config


def test_repeated_lookups_are_rate_limited(limited, client):
    assert lookups(client, "203.0.113.7", 4) == [422, 422, 422, 429]
    page = client.post("/", data={"order_number": "A1", "email": "a@example.com",
                                  "csrf_token": csrf_token(client, "/")},
                       environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert page.status_code == 429
    assert "You have tried too many times" in page.text
    assert client.get("/", environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 200
    assert lookups(client, "203.0.113.8", 1) == [422]  # another customer is not affected


def test_head_requests_are_counted_like_gets(limited, client, make_order):
    """HEAD answers 200 or 404 like GET, so it tells a right order and email apart too."""
    env = {"REMOTE_ADDR": "198.51.100.30"}
    make_order("A1001")
    check = "/api/v1/orders/A1001/eligibility"
    codes = [client.head(check, query_string={"email": f"guess{n}@example.com"},
                         environ_base=env).status_code for n in range(3)]
    assert codes == [404, 404, 404]
    assert client.head(check, query_string={"email": "jane@example.com"},
                       environ_base=env).status_code == 429
    assert client.get(check, query_string={"email": "jane@example.com"},
                      environ_base=env).status_code == 429  # one budget for both


def test_the_public_api_shares_the_budget_and_staff_tokens_are_not_counted(
        limited, client, make_order, tokens):
    env = {"REMOTE_ADDR": "198.51.100.20"}
    make_order("A1001")
    check = "/api/v1/orders/A1001/eligibility"
    body = {"order_number": "A1001", "email": "guess@example.com",
            "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]}
    assert client.get(check, query_string={"email": "guess@example.com"},
                      environ_base=env).status_code == 404
    assert client.post("/api/v1/returns", json=body, environ_base=env).status_code == 404
    assert lookups(client, "198.51.100.20", 1) == [422]  # the portal's form: same budget
    refused = client.get(check, query_string={"email": "jane@example.com"}, environ_base=env)
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json" and refused.json["status"] == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.json["detail"] == ("Too many lookups from this address (at most 3 per 1 "
                                      "minute). Try again later.")
    staff = client.post("/api/v1/returns", json={**body, "email": "jane@example.com"},
                        headers={"Authorization": f"Bearer {tokens['agent']}"},
                        environ_base=env)
    assert staff.status_code == 201, staff.json  # an agent on the phone is not throttled
    other = client.get(check, query_string={"email": "jane@example.com"},
                       environ_base={"REMOTE_ADDR": "198.51.100.21"})
    assert other.status_code == 200


@pytest.fixture
def limited_in_redis(limited):
    limited["REDIS_URL"] = TEST_REDIS_URL
    return limited


@pytest.mark.redis
def test_rate_limit_counts_in_redis_when_configured(limited_in_redis, client):
    from redis import Redis

    # A fresh address per run: counters in a shared Redis outlive the test.
    address = f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"
    assert type(limiter.storage).__name__ == "RedisStorage"
    assert lookups(client, address, 4) == [422, 422, 422, 429]
    redis = Redis.from_url(TEST_REDIS_URL)
    assert redis.keys(f"*returns-portal*{address}*")
    redis.close()


@pytest.fixture
def limited_with_redis_down(limited):
    limited["REDIS_URL"] = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    yield limited
    # Flask-Limiter keeps "the storage is dead" on the Limiter object, which every app of
    # this process shares, and no later init_app clears it: the next tests' requests would
    # count in the fallback until a check, due after a time that depends on how long the
    # tests in between took, finds the new storage alive and moves the count there
    # mid-test (a fourth lookup let through). One app per process in production.
    limiter._storage_dead = False


def test_lookups_still_work_and_are_limited_while_redis_is_down(limited_with_redis_down,
                                                                 client):
    assert lookups(client, "192.0.2.10", 4) == [422, 422, 422, 429]


@pytest.mark.parametrize(("word", "expected"), [
    ("off", [422, 422, 422]), ("0", [422, 422, 422]), ("yes", [422, 429, 429])])
def test_the_operator_turns_the_limit_on_or_off_from_the_environment(
        app_config, monkeypatch, word, expected):
    """Behind a gateway that already limits lookups, RATELIMIT_ENABLED=0 (or off, false, no)
    in the environment turns this limit off; the app's own default is on."""
    from returns_service import create_app

    settings = {k: v for k, v in app_config.items() if k != "RATELIMIT_ENABLED"}
    monkeypatch.setenv("RATELIMIT_ENABLED", word)
    app = create_app({**settings, "RATELIMIT_LOOKUP": "1 per minute"})
    address = f"2001:db8::{uuid.uuid4().hex[:4]}"  # counters from other tests stay apart
    try:
        assert lookups(app.test_client(), address, 3) == expected
    finally:
        with app.app_context():
            db.engine.dispose()


def test_a_mistyped_switch_stops_the_app_from_starting(app_config, monkeypatch):
    from returns_service import create_app

    monkeypatch.setenv("RATELIMIT_ENABLED", "maybe")
    with pytest.raises(ValueError, match="RATELIMIT_ENABLED='maybe': use one of 1, true"):
        create_app({k: v for k, v in app_config.items() if k != "RATELIMIT_ENABLED"})


def behind_proxy(client, forwarded_for: str, count: int) -> list[int]:
    """Wrong API lookups as they arrive through one load balancer at 10.0.0.2."""
    return [client.get(f"/api/v1/orders/G{n}/eligibility", query_string={"email": "g@x.test"},
                       headers={"X-Forwarded-For": forwarded_for},
                       environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code
            for n in range(count)]


def test_behind_a_trusted_proxy_each_client_has_its_own_budget(limited, build_app):
    client = build_app(TRUSTED_PROXY_HOPS=1).test_client()
    assert behind_proxy(client, "203.0.113.50", 4) == [404, 404, 404, 429]
    assert behind_proxy(client, "203.0.113.51", 1) == [404]
    # Only the one hop the proxy added is trusted: a forged first entry changes nothing.
    assert behind_proxy(client, "198.51.100.1, 203.0.113.50", 1) == [429]


def test_without_trusted_proxies_the_header_is_ignored(limited, client):
    assert behind_proxy(client, "203.0.113.60", 3) == [404, 404, 404]
    assert behind_proxy(client, "203.0.113.61", 1) == [429]  # same address: 10.0.0.2
