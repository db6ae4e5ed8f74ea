"""The JSON API (/api/v1): flask-smorest blueprints that parse, call one service and dump.
Each blueprint checks the caller's permission and refuses NUL characters and unusable JSON
before its input is parsed."""

from flask import Flask
from flask_smorest import Api

from returns_service.api import (
    conversations,
    credits,
    exchanges,
    orders,
    photos,
    refunds,
    reports,
    returns,
    webhooks,
)
from returns_service.api.personal_data import blp as personal_data_blp
from returns_service.http.api_input import check_json_body, reject_nul_characters
from returns_service.http.auth import check_permission
from returns_service.http.extensions import csrf
from returns_service.http.openapi import register_components

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    """Mount the API and its OpenAPI document at /api/v1/openapi.json."""
    app.config.update(API_TITLE="returns-service", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
                      OPENAPI_URL_PREFIX="/api/v1", OPENAPI_JSON_PATH="openapi.json")
    api = Api(app)
    register_components(api)
    for blp in (orders.blp, returns.blp, refunds.blp, credits.blp, reports.blp, webhooks.blp,
                exchanges.products_blp, exchanges.orders_blp, exchanges.exchanges_blp,
                conversations.blp, personal_data_blp, photos.blp):
        api.register_blueprint(blp)
        # This app's hooks for this blueprint's requests (the blueprint object is shared by
        # every app built in the process, so the hooks are not set on it).
        app.before_request_funcs.setdefault(blp.name, []).extend(
            [check_permission, reject_nul_characters, check_json_body])
        csrf.exempt(blp)  # token-authenticated JSON API: no cookies, no CSRF
    app.extensions["smorest_api"] = api
