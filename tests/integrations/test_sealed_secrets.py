"""Webhook signing secrets are stored sealed (common.sealed): the table never holds one
readable, deliveries still carry signatures the receiver verifies with the secret it was
shown, and the keys can change (a new key first, `flask secrets reseal`, the old one dropped)
without losing an endpoint. A secret no listed key opens fails its deliveries with a word
why, and nothing else."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from returns_service import create_app
from returns_service.common import clock
from returns_service.common.sealed import new_key, unseal
from returns_service.db import db
from returns_service.scheduler import tick
from tests.integrations.conftest import deliveries, register

ROOT = Path(__file__).resolve().parents[2]


def stored(app: Any) -> list[tuple[str, str | None]]:
    with app.app_context():
        rows = db.session.execute(text(
            "SELECT sealed_secret, sealed_previous_secret FROM webhook_endpoints")).all()
        db.session.rollback()
        return [tuple(row) for row in rows]


def test_the_secret_is_stored_sealed_and_deliveries_still_verify(app, api, make_return,
                                                                 receiver, endpoint):
    shown = endpoint["secret"]
    make_return()
    rotated = api.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret",
                       as_="admin")
    assert rotated.status_code == 200, rotated.json
    receiver.secrets.append(rotated.json["secret"])

    [(current, previous)] = stored(app)
    for secret in (shown, rotated.json["secret"]):
        assert secret not in current and secret not in (previous or "")
    assert not current.startswith("whsec_") and not (previous or "").startswith("whsec_")
    with app.app_context():
        assert (unseal(current), unseal(previous or "")) == (rotated.json["secret"], shown)
    assert [(r.payload["type"], r.verified_by) for r in receiver.accepted()] == [
        ("return.requested", [0])]


def test_a_new_key_goes_first_then_reseal_lets_the_old_one_go(
        app, api, build_app, make_return, receiver, frozen_now):
    old, new = new_key(), new_key()
    with_old = build_app(ENCRYPTION_KEYS=old)
    made = with_old.test_client().post(
        "/api/v1/webhook-endpoints", headers={"Authorization": f"Bearer {api.tokens['admin']}"},
        json={"url": receiver.url, "event_types": ["return.requested"]})
    assert made.status_code == 201, made.json
    receiver.secrets.append(made.json["secret"])

    # The test's own app lists no key: it cannot open what the old key sealed. The return
    # goes through; its event waits, with a word why.
    make_return()
    [waiting] = deliveries(app)
    assert waiting.status == "pending" and "ENCRYPTION_KEYS" in (waiting.last_error or "")
    assert receiver.received == []

    with_new = build_app(ENCRYPTION_KEYS=new)  # the old key dropped too early: still waits
    clock.freeze(frozen_now + timedelta(hours=1))
    tick(with_new, frozen_now + timedelta(hours=1))
    assert receiver.received == [] and deliveries(app)[0].status == "pending"

    with_both = build_app(ENCRYPTION_KEYS=f"{new},{old}")
    resealed = with_both.test_cli_runner().invoke(args=["secrets", "reseal"])
    assert resealed.exit_code == 0, resealed.output
    assert "1 webhook endpoint(s)" in resealed.output

    clock.freeze(frozen_now + timedelta(hours=4))
    tick(with_new, frozen_now + timedelta(hours=4))  # the old key is no longer needed
    assert [(r.payload["type"], r.verified_by) for r in receiver.accepted()] == [
        ("return.requested", [0])]
    assert deliveries(app)[0].status == "delivered"


def test_reseal_without_the_key_that_sealed_a_secret_changes_nothing(app, api, build_app,
                                                                     receiver):
    register(api, receiver)  # sealed with the key derived from SECRET_KEY
    before = stored(app)
    elsewhere = build_app(SECRET_KEY="another", ENCRYPTION_KEYS=new_key())
    result = elsewhere.test_cli_runner().invoke(args=["secrets", "reseal"])
    assert result.exit_code != 0
    assert "Nothing changed" in result.output and "ENCRYPTION_KEYS" in result.output
    assert stored(app) == before


def test_new_key_prints_a_key_the_app_accepts(app, app_config):
    printed = app.test_cli_runner().invoke(args=["secrets", "new-key"]).output.strip()
    assert create_app({**app_config, "ENCRYPTION_KEYS": printed}).config["ENCRYPTION_KEYS"]


def flask_db(database: Path, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "migrated",
           "LOG_LEVEL": "WARNING"}
    for name in ("REDIS_URL", "ENCRYPTION_KEYS"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr


def test_upgrading_seals_the_secrets_already_stored_and_downgrading_restores_them(
        tmp_path: Path, app_config: dict[str, Any]) -> None:
    database = tmp_path / "upgraded.db"
    flask_db(database, "upgrade", "b7a1c2d3e4f5")  # the schema before secrets were sealed
    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO webhook_endpoints (id, url, description, event_types, enabled, "
            "secret, previous_secret, last_sequence, created_at, updated_at) VALUES "
            "(1, 'https://hooks.example.com/r', '', '[\"*\"]', 1, 'whsec_current', "
            "'whsec_previous', 0, '2026-12-01 00:00:00', '2026-12-01 00:00:00')")

    flask_db(database, "upgrade")
    with sqlite3.connect(database) as connection:
        current, previous = connection.execute(
            "SELECT sealed_secret, sealed_previous_secret FROM webhook_endpoints").fetchone()
    assert "whsec_" not in current + previous
    migrated = create_app({**app_config, "DATABASE_URL": f"sqlite:///{database}",
                           "SECRET_KEY": "migrated"})
    with migrated.app_context():
        assert (unseal(current), unseal(previous)) == ("whsec_current", "whsec_previous")
        db.engine.dispose()

    flask_db(database, "downgrade", "b7a1c2d3e4f5")
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT secret, previous_secret FROM webhook_endpoints"
                                  ).fetchone() == ("whsec_current", "whsec_previous")


def test_reseal_drops_a_rotated_out_secret_past_its_overlap_instead_of_stopping(
        app, api, build_app, receiver, frozen_now):
    first, second, third = new_key(), new_key(), new_key()
    admin = {"Authorization": f"Bearer {api.tokens['admin']}"}
    made = build_app(ENCRYPTION_KEYS=first).test_client().post(
        "/api/v1/webhook-endpoints", headers=admin,
        json={"url": receiver.url, "event_types": ["*"]}).json
    rotated = build_app(ENCRYPTION_KEYS=f"{second},{first}").test_client().post(
        f"/api/v1/webhook-endpoints/{made['id']}/rotate-secret", headers=admin)
    assert rotated.status_code == 200, rotated.json
    # A day later the old secret signs nothing; the key that sealed it is gone already.
    clock.freeze(frozen_now + timedelta(hours=25))
    result = build_app(ENCRYPTION_KEYS=f"{third},{second}").test_cli_runner().invoke(
        args=["secrets", "reseal"])

    assert result.exit_code == 0, result.output
    [(current, previous)] = stored(app)
    assert previous is None
    with build_app(ENCRYPTION_KEYS=third).app_context():
        assert unseal(current) == rotated.json["secret"]


def test_a_previous_secret_no_key_opens_leaves_the_current_signature(
        app, api, build_app, make_order, receiver):
    first, second = new_key(), new_key()
    admin = {"Authorization": f"Bearer {api.tokens['admin']}"}
    made = build_app(ENCRYPTION_KEYS=first).test_client().post(
        "/api/v1/webhook-endpoints", headers=admin,
        json={"url": receiver.url, "event_types": ["return.requested"]}).json
    current = build_app(ENCRYPTION_KEYS=f"{second},{first}").test_client().post(
        f"/api/v1/webhook-endpoints/{made['id']}/rotate-secret", headers=admin).json["secret"]
    receiver.secrets.extend([made["secret"], current])
    with_second = build_app(ENCRYPTION_KEYS=second)  # `first`, the old secret's key, dropped
    make_order("A1001")
    requested = with_second.test_client().post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]})
    assert requested.status_code == 201, requested.json

    assert [(r.payload["type"], r.verified_by) for r in receiver.accepted()] == [
        ("return.requested", [1])]
