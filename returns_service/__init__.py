"""returns-service: the app factory. Everything is configured here, nothing at import time."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Flask
from flask_smorest import Api

from returns_service.config import load_settings, sqlalchemy_url
from returns_service.extensions import csrf, db, login_manager, migrate

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
log = logging.getLogger("returns_service")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the WSGI app. `config` overrides environment settings (tests pass a mapping)."""
    app = Flask(__name__, instance_relative_config=True)
    settings = load_settings(overrides=config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(settings)
    app.config["SECRET_KEY"] = settings["SECRET_KEY"] or _instance_secret(app)
    _configure_logging(app)
    if not settings["SECRET_KEY"]:
        log.warning("SECRET_KEY is not set: using the key kept in %s/secret_key. Links in "
                    "emails and sessions only work where that file is; set SECRET_KEY when "
                    "the web app and workers run on several machines or containers.",
                    app.instance_path)
    _configure_database(app, settings.get("DATABASE_URL"))
    app.config.update(
        API_TITLE="returns-service", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1", OPENAPI_JSON_PATH="openapi.json",
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",
    )
    if app.config["PUBLIC_BASE_URL"].startswith("https://"):
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)

    from returns_service import models  # noqa: F401  (register every table)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    _configure_jobs(app)
    app.extensions["return_policy"] = _load_policy(app)
    if not app.config.get("RETURN_ADDRESS"):
        log.warning("RETURN_ADDRESS is not set: approval emails and the customer pages cannot "
                    "say where to send a parcel. Set it to your returns address.")
    _register_http(app)

    from returns_service.cli import register_cli

    register_cli(app)
    return app


def _instance_secret(app: Flask) -> str:
    """A secret kept in the instance folder, so signed links survive restarts in dev."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _configure_logging(app: Flask) -> None:
    level = getattr(logging, str(app.config["LOG_LEVEL"]).upper(), logging.INFO)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(level)


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
        # connection attempt after 5 s, so /healthz answers 503 instead of hanging.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True, "pool_size": 10,
                                                   "max_overflow": 20,
                                                   "connect_args": {"connect_timeout": 5}}


def _configure_jobs(app: Flask) -> None:
    from returns_service import jobs_registry  # noqa: F401  (register outbox handlers)
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


def _load_policy(app: Flask) -> Any:
    from returns_service.returns.policy import load_policy

    policy = load_policy(app.config["RETURN_POLICY_FILE"])
    return policy


def _register_http(app: Flask) -> None:
    from returns_service import console
    from returns_service.api.input import reject_nul_characters
    from returns_service.auth import check_declared_roles
    from returns_service.errors import register_error_handlers
    from returns_service.feedback.views import bp as feedback_bp
    from returns_service.health import bp as health_bp
    from returns_service.openapi import register_components
    from returns_service.orders.api import blp as orders_blp
    from returns_service.portal import init_portal
    from returns_service.refunds.api import blp as refunds_blp
    from returns_service.reports.api import blp as reports_blp
    from returns_service.reports.metrics import init_metrics
    from returns_service.reports.views import bp as reports_web_bp
    from returns_service.returns.api import blp as returns_blp
    from returns_service.web.format import install_filters
    from returns_service.web.input import drop_nul_characters
    from returns_service.web.security import install_security_headers
    from webhooks.stripe import bp as stripe_webhooks_bp

    api = Api(app)
    app.before_request(check_declared_roles)
    app.before_request(reject_nul_characters)
    app.before_request(drop_nul_characters)
    register_components(api)
    for blp in (orders_blp, returns_blp, refunds_blp, reports_blp):
        api.register_blueprint(blp)
        csrf.exempt(blp)  # token-authenticated JSON API: no cookies, no CSRF
    app.extensions["smorest_api"] = api
    app.register_blueprint(health_bp)
    app.register_blueprint(stripe_webhooks_bp)  # POST /webhooks/stripe
    csrf.exempt(stripe_webhooks_bp)  # authenticated by Stripe-Signature, not a session
    init_portal(app)  # customer pages at / and /returns/…
    console.init_app(app)  # staff console at /staff (login, queue, receiving, users)
    app.register_blueprint(feedback_bp)  # CSAT rating links and survey at /feedback/…
    app.register_blueprint(reports_web_bp)  # staff dashboard at /staff/dashboard
    init_metrics(app)  # GET /metrics (Prometheus)
    install_security_headers(app)
    install_filters(app)
    register_error_handlers(app)  # after Api, so problem+json wins over smorest's JSON

    @login_manager.user_loader
    def _load_user(user_id: str) -> Any:
        from returns_service.staff.services import user_for_session

        user_key, _, token = user_id.partition(":")
        if not user_key.isdigit() or not token:
            return None  # a cookie from before sessions were recorded: sign in again
        return user_for_session(int(user_key), token)
