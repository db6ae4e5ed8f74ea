"""returns-service: the app factory. Everything is configured here, nothing at import time."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Flask
from sqlalchemy.orm import configure_mappers

from returns_service.common import i18n, sealed
from returns_service.common.error_reporting import init_error_reporting
from returns_service.common.logs import configure_logging
from returns_service.config import load_settings, sqlalchemy_url
from returns_service.db import REPORTS_BIND, db, migrate
from returns_service.db.liveness import check_before_use
from returns_service.db.psycopg_cursor import LazyDescriptionCursor
from returns_service.http.extensions import csrf, login_manager

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
log = logging.getLogger("returns_service")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the WSGI app. `config` overrides environment settings (tests pass a mapping)."""
    app = Flask(__name__, instance_relative_config=True)
    settings = load_settings(overrides=config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(settings)
    app.config["SECRET_KEY"] = settings["SECRET_KEY"] or _instance_secret(app)
    sealed.check_keys(app.config)  # a mistyped key stops the start, naming the setting
    _configure_logging(app)
    if not settings["SECRET_KEY"]:
        log.warning("SECRET_KEY is not set: using the key kept in %s/secret_key. Links in "
                    "emails, sessions and stored webhook secrets only work where that file "
                    "is; set SECRET_KEY (or ENCRYPTION_KEYS for the secrets) when "
                    "the web app and workers run on several machines or containers.",
                    app.instance_path)
    _configure_database(app, settings.get("DATABASE_URL"))
    if settings.get("REPORTS_DATABASE_URL"):  # a read replica, see db.reading_session
        app.config["SQLALCHEMY_BINDS"] = {REPORTS_BIND: {
            "url": sqlalchemy_url(settings["REPORTS_DATABASE_URL"]),
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}}
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",
    )
    if app.config["PUBLIC_BASE_URL"].startswith("https://"):
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "postgresql":
                check_before_use(engine)  # instead of pool_pre_ping (db.liveness)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    i18n.init_app(app)  # before the domains: their templates and emails translate
    login_manager.init_app(app)
    _configure_jobs(app)
    if not app.config.get("RETURN_ADDRESS"):
        log.warning("RETURN_ADDRESS is not set: approval emails and the customer pages cannot "
                    "say where to send a parcel. Set it to your returns address.")
    _init_domains(app)
    # Every model is imported by now: set up the ORM's mappings here, not on first use, which
    # the hot paths' Core reads (db.loaded) never trigger: an email job as a new worker's
    # first work would find its relationships not ready.
    configure_mappers()
    return app


def _init_domains(app: Flask) -> None:
    """Each package wires itself (tables, signal receivers, outbox handlers, periodic jobs,
    blueprints, commands), lowest layer first. Imported here, not at the top of this module,
    so that importing one helper of the package (`returns_service.common.clock`) does not load
    every domain."""
    from returns_service import (
        api,
        branding,
        cli,
        console,
        conversations,
        credits,
        demo,
        exchanges,
        feedback,
        http,
        integrations,
        notifications,
        orders,
        payments,
        photos,
        portal,
        privacy,
        refunds,
        returns,
        scheduler,
        shipping,
        staff,
        storage,
    )
    from webhooks import init_app as init_webhooks

    for package in (storage, scheduler, privacy, staff, payments, orders, returns, feedback,
                    credits, photos, refunds, shipping, conversations, notifications,
                    exchanges, integrations, http, api, portal, console, demo, cli):
        package.init_app(app)
    branding.init_app(app)  # the store's look, for every page and email
    init_webhooks(app)
    # Last: after the API, so problem+json wins over smorest's own JSON errors.
    http.register_error_handlers(app)


def _instance_secret(app: Flask) -> str:
    """A secret kept in the instance folder, so signed links survive restarts in dev."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _configure_logging(app: Flask) -> None:
    level = getattr(logging, str(app.config["LOG_LEVEL"]).upper(), logging.INFO)
    configure_logging(level, str(app.config["LOG_FORMAT"]))
    log.setLevel(level)
    if init_error_reporting(app.config["SENTRY_DSN"], app.config["SENTRY_ENVIRONMENT"]):
        log.info("Errors are reported to SENTRY_DSN (environment %s).",
                 app.config["SENTRY_ENVIRONMENT"])


def _configure_database(app: Flask, url: str | None) -> None:
    if not url:
        url = f"sqlite:///{Path(app.instance_path) / 'returns.db'}"
        log.info("DATABASE_URL is not set: using SQLite at %s (set DATABASE_URL to a "
                 "PostgreSQL database in production).", url.removeprefix("sqlite:///"))
    url = sqlalchemy_url(url)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        # Wait for a competing writer instead of failing at once.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    else:
        # A database that does not answer (a network partition, not a refusal) fails a
        # connection attempt after 5 s, so /healthz answers 503 instead of hanging. The
        # cursor builds a result's column descriptions only when asked (db.psycopg_cursor).
        # Each connection is checked before use by db.liveness, not pool_pre_ping.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_size": 10, "max_overflow": 20,
            "connect_args": {"connect_timeout": 5, "cursor_factory": LazyDescriptionCursor}}


def _configure_jobs(app: Flask) -> None:
    from returns_service.outbox.relay import install

    install()
    url = app.config["REDIS_URL"]
    if url:
        from redis import Redis
        from rq import Queue

        redis = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        app.extensions["redis"] = redis
        app.extensions["rq_queue"] = Queue(app.config["RQ_QUEUE"], connection=redis)
        log.info("Background jobs go to RQ queue %r at %s; run `flask worker` to process them.",
                 app.config["RQ_QUEUE"], _redact(url))
    else:
        log.info("REDIS_URL is not set: background jobs run in-process right after each "
                 "commit (no worker needed). Set REDIS_URL and run `flask worker` in production.")


def _redact(url: str) -> str:
    """The URL without credentials: none in `user:password@`, none in the query
    (`?password=…` works for redis-py too)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, f"***@{host}" if "@" in parts.netloc else host,
                       parts.path, "", ""))
