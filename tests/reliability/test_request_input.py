"""Hostile request bodies: too large, not JSON, JSON no code can use. Each is a clear
problem+json (413, 415 or 400) and nothing reads or stores it; never a 500."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from returns_service.db import db
from returns_service.payments.models import StripeEvent
from returns_service.returns.models import Return
from tests.support.stripe import WEBHOOK_SECRET


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    return app_config


class NeverRead(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def readable(self) -> bool:
        return True

    def readinto(self, _buffer: Any) -> int:
        raise AssertionError("the body was read")


def count(app: Any, model: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)))


# --- 1. body size ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/webhooks/stripe", "/api/v1/returns"])
def test_a_huge_declared_body_is_refused_before_it_is_read(client, path):
    response = client.post(path, headers={"Content-Type": "application/json",
                                          "Stripe-Signature": "t=1,v1=00"},
                           environ_overrides={"wsgi.input": NeverRead(),
                                              "CONTENT_LENGTH": str(300 * 1024 * 1024)})
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert "bytes" in response.json["detail"]


def test_a_body_just_over_the_api_limit_is_413_and_just_under_is_read(app, client, make_order):
    make_order()
    limit = app.config["MAX_BODY_API_BYTES"]
    body = {"order_number": "A1001", "email": "jane@example.com",
            "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]}
    raw = json.dumps(body).encode()
    padded = raw[:-1] + b" " * (limit + 1 - len(raw)) + b"}"
    assert len(padded) == limit + 1
    response = client.post("/api/v1/returns", data=padded, content_type="application/json")
    assert response.status_code == 413
    assert count(app, Return) == 0
    response = client.post("/api/v1/returns", data=padded[:-2] + b"}",
                           content_type="application/json")
    assert response.status_code == 201


def test_a_chunked_body_is_cut_off_while_it_is_read(app, client):
    """No Content-Length (chunked, the server terminates the stream): cut at the limit."""
    limit = app.config["MAX_BODY_WEBHOOK_BYTES"]
    stream = io.BytesIO(b"{" + b" " * (limit * 2) + b"}")
    response = client.post("/webhooks/stripe",
                           headers={"Content-Type": "application/json",
                                    "Stripe-Signature": "t=1,v1=00",
                                    "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input": stream,
                                              "wsgi.input_terminated": True})
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert stream.tell() <= limit + 64 * 1024  # read no further than about the limit
    assert count(app, StripeEvent) == 0


def test_the_limits_are_settings(build_app):
    small = build_app(MAX_BODY_API_BYTES=100).test_client()
    response = small.post("/api/v1/returns", data=b"[" + b"1," * 100 + b"1]",
                          content_type="application/json")
    assert response.status_code == 413
    assert response.json["max_bytes"] == 100


def test_a_large_console_form_is_refused(client):
    response = client.post("/staff/login", data={"email": "a@b.test", "password": "x" * 70000})
    assert response.status_code == 413


# --- 3. JSON the code cannot use -------------------------------------------------------------

BAD_JSON = {
    "lone surrogate": b'{"order_number": "\\ud800", "email": "jane@example.com", "items": []}',
    "surrogate in a key": b'{"\\udfff": 1, "order_number": "A1001"}',
    "deep nesting": b'{"items": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
    "5000-digit integer": b'{"items": [{"sku": "SHIRT", "quantity": ' + b"9" * 5000 + b"}]}",
    "NaN": b'{"items": [{"sku": "SHIRT", "quantity": NaN}]}',
}


@pytest.mark.parametrize("body", BAD_JSON.values(), ids=BAD_JSON.keys())
def test_json_no_code_can_use_is_a_400(app, client, make_order, body):
    make_order()
    response = client.post("/api/v1/returns", data=body, content_type="application/json")
    assert response.status_code == 400, response.data[:300]
    assert response.mimetype == "application/problem+json"
    assert "JSON" in response.json["detail"]
    assert count(app, Return) == 0


@pytest.mark.parametrize("body", BAD_JSON.values(), ids=BAD_JSON.keys())
def test_json_no_code_can_use_is_a_400_for_staff_too(api, body):
    response = api.client.post("/api/v1/orders", data=body, content_type="application/json",
                               headers={"Authorization": f"Bearer {api.tokens['integration']}"})
    assert response.status_code == 400, response.data[:300]
    assert response.mimetype == "application/problem+json"


# --- 16. a body without Content-Type, broken JSON -----------------------------------------

def test_json_sent_without_content_type_is_a_415_that_says_so(client, make_order):
    make_order()
    body = json.dumps({"order_number": "A1001", "email": "jane@example.com",
                       "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]})
    # what `curl -d '{…}'` sends
    response = client.post("/api/v1/returns", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"
    assert "Content-Type: application/json" in response.json["detail"]


def test_broken_json_is_a_400_problem_that_says_where(client):
    response = client.post("/api/v1/returns", data=b'{"order_number": "A1001",',
                           content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "not valid JSON" in response.json["detail"]
    assert "line 1" in response.json["detail"]


def test_a_post_without_a_body_still_reads_as_no_fields(client):
    response = client.post("/api/v1/returns")
    assert response.status_code == 422
    assert "order_number" in response.json["errors"]


