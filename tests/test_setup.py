"""Set-up promises: migrations match the models, CLI commands, health, start-up log lines."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from returns_service.db import db
from returns_service.staff.services import user_for_token


def test_migrations_build_exactly_the_schema_the_models_declare(app: Flask) -> None:
    """The session's schema was built by `flask db upgrade`; autogenerate must find nothing."""
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_cli_creates_staff_and_mints_a_working_token(app: Flask) -> None:
    runner = app.test_cli_runner()
    created = runner.invoke(args=["users", "create", "Kim@Shop.test", "--role", "agent"])
    assert created.exit_code == 0, created.output
    assert "Created kim@shop.test (agent)." in created.output
    assert "Password: " in created.output
    duplicate = runner.invoke(args=["users", "create", "kim@shop.test", "--role", "agent"])
    assert duplicate.exit_code != 0
    assert "already exists" in duplicate.output
    minted = runner.invoke(args=["tokens", "create", "kim@shop.test", "--name", "zendesk"])
    token = minted.output.strip()
    assert minted.exit_code == 0 and token.startswith("rsk_")
    with app.app_context():
        assert user_for_token(token).email == "kim@shop.test"
    revoked = runner.invoke(args=["tokens", "revoke", token[:12]])
    assert "Revoked 1 token(s)." in revoked.output
    with app.app_context():
        assert user_for_token(token) is None


def test_cli_refuses_an_unknown_role(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["users", "create", "x@shop.test",
                                                "--role", "boss"])
    assert result.exit_code != 0
    assert "boss" in result.output


def test_workflow_graph_command_prints_mermaid(app: Flask) -> None:
    output = app.test_cli_runner().invoke(args=["workflow", "graph"]).output
    assert output.startswith("stateDiagram-v2")
    assert "requested --> approved: approve" in output
    named = app.test_cli_runner().invoke(args=["workflow", "graph", "returns"])
    assert named.output == output
    unknown = app.test_cli_runner().invoke(args=["workflow", "graph", "parcels"])
    assert unknown.exit_code != 0 and "returns" in unknown.output  # says which exist


def test_demo_seed_gives_returnable_orders_and_staff_logins(app: Flask, client: Any) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0  # safe to run again
    agent_token = next(line.split("API token: ")[1] for line in first.output.splitlines()
                       if line.strip().startswith("agent@example.com"))
    eligibility = client.get("/api/v1/orders/1001/eligibility?email=jane@example.com").json
    assert [line["eligible"] for line in eligibility["lines"]] == [True, True, False]
    response = client.get("/api/v1/orders/1001",
                          headers={"Authorization": f"Bearer {agent_token}"})
    assert response.status_code == 200


def test_health_reports_database_and_embedded_jobs(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["redis"].startswith("not configured")


def test_health_is_503_when_redis_is_configured_but_down(build_app: Any) -> None:
    app = build_app(REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"].startswith("error")


def test_health_is_503_within_seconds_when_the_database_does_not_answer(
        build_app: Any) -> None:
    """A database host that accepts connections and then says nothing (a partition): the
    check gives up after the connect timeout instead of hanging until gunicorn kills it."""
    import socket
    import time

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever answers
        port = silent.getsockname()[1]
        app = build_app(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/nowhere")
        started = time.monotonic()
        response = app.test_client().get("/healthz")
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json["checks"]["database"].startswith("error")
    assert elapsed < 20


@pytest.mark.parametrize(("name", "value", "message"), [
    ("RATELIMIT_LOOKUP", "ten per minute", "RATELIMIT_LOOKUP='ten per minute': use a rate"),
    ("SMTP_TIMEOUT_SECONDS", "30s", "SMTP_TIMEOUT_SECONDS='30s': use a whole number"),
    ("LOG_LEVEL", "verbose", "LOG_LEVEL='verbose': use one of DEBUG, INFO"),
    ("ENCRYPTION_KEYS", "hunter2", "ENCRYPTION_KEYS: key 1 is not a Fernet key"),
])
def test_a_mistyped_setting_stops_the_app_from_starting_and_names_itself(
        app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch, name: str, value: str,
        message: str) -> None:
    """A wrong rate limit used to turn the lookup limit off, with an error per request."""
    from returns_service import create_app

    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        create_app({k: v for k, v in app_config.items() if k != name})


@pytest.mark.parametrize(("given", "used"), [("warn", "WARNING"), ("Debug", "DEBUG")])
def test_log_level_takes_any_name_logging_knows(given: str, used: str) -> None:
    from returns_service.config import load_settings

    assert load_settings({"LOG_LEVEL": given})["LOG_LEVEL"] == used


def test_without_a_secret_key_the_start_up_log_says_where_the_key_is_kept(
        build_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="returns_service"):
        build_app(SECRET_KEY=None)
    assert any(r.levelname == "WARNING" and "SECRET_KEY is not set" in r.message
               and "secret_key" in r.message for r in caplog.records)


@pytest.mark.redis
def test_health_checks_a_real_redis(build_app: Any) -> None:
    import os

    app = build_app(REDIS_URL=os.environ["TEST_REDIS_URL"])
    assert app.test_client().get("/healthz").json["checks"]["redis"] == "ok"


def test_without_redis_the_start_up_log_says_jobs_run_in_process(
        build_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="returns_service"):
        build_app()
    assert any("REDIS_URL is not set: background jobs run in-process" in r.message
               for r in caplog.records)


def test_without_a_return_address_the_start_up_log_warns(
        build_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="returns_service"):
        build_app(RETURN_ADDRESS="Acme Returns, 1 Dock Road")
        assert not any("RETURN_ADDRESS" in r.message for r in caplog.records)
        build_app()
    assert any(r.levelname == "WARNING" and "RETURN_ADDRESS is not set" in r.message
               for r in caplog.records)


@pytest.mark.parametrize("url", ["redis://:S3cretRedisPw@127.0.0.1:1/0",
                                 "redis://127.0.0.1:1/0?password=S3cretRedisPw"])
def test_the_start_up_log_never_shows_the_redis_password(
        build_app: Any, caplog: pytest.LogCaptureFixture, url: str) -> None:
    with caplog.at_level(logging.INFO, logger="returns_service"):
        build_app(REDIS_URL=url)
    lines = [r.getMessage() for r in caplog.records if "RQ queue" in r.getMessage()]
    assert lines and "127.0.0.1:1/0" in lines[0]
    assert not any("S3cretRedisPw" in r.getMessage() for r in caplog.records)


def test_unknown_api_path_is_a_problem_response(client: Any) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_an_unexpected_error_on_a_page_is_the_services_500_page(app: Any) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("bug")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert b"<h1>Something went wrong</h1>" in response.data and b"bug" not in response.data


def test_a_business_rule_error_on_a_page_is_an_html_page(app: Any) -> None:
    from returns_service.common.errors import NotFound

    @app.get("/nothing")
    def nothing() -> str:
        raise NotFound("No return R-ABCDEF.")

    response = app.test_client().get("/nothing")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert b"No return R-ABCDEF." in response.data
