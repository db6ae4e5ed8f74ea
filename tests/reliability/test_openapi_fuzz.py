"""Schemathesis over the served OpenAPI document: every operation, with an admin token.

Checks: no 5xx, and every response (including problem+json errors) matches what the
document declares for it: schema, content type and status code. Bounded to a few examples
per operation to stay fast. (Operations are listed from the document itself, so new
endpoints are fuzzed without touching this file.)
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from returns_service import create_app


def allow_on_405(_ctx: Any, response: Any, case: Any) -> None:
    """A 405 must say which methods the resource takes (RFC 9110, `Allow`)."""
    if response.status_code == 405:
        assert response.headers.get("Allow") or response.headers.get("allow"), (
            f"{case.method} {case.formatted_path}: 405 without an Allow header")


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance,
          status_code_conformance, allow_on_405]


def _operations() -> list[tuple[str, str]]:
    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x", "REDIS_URL": None})
    spec = app.test_client().get("/api/v1/openapi.json").json
    return [(method.upper(), path) for path, item in spec["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")]


OPERATIONS = _operations()


@pytest.mark.parametrize(("method", "path"), OPERATIONS,
                         ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_answers_without_5xx_and_as_documented(app, tokens, make_return, method,
                                                         path):
    rma = make_return("1001")["rma"]  # something real to find among the random ids
    known = {"rma": rma, "number": "1001"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]
    headers = {"Authorization": f"Bearer {tokens['admin']}"}

    @given(case=operation.as_strategy(), real=st.booleans())
    @settings(max_examples=30, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def fuzz(case: Any, real: bool) -> None:
        if real:  # half the cases aim at the existing order and return, past the 404s
            case.path_parameters = {k: known.get(k, v)
                                    for k, v in (case.path_parameters or {}).items()}
            if isinstance(case.body, dict) and "order_number" in case.body:
                case.body = {**case.body, "order_number": "1001", "email": "jane@example.com"}
        case.call_and_validate(headers=headers, checks=CHECKS)

    fuzz()


def _undocumented() -> list[tuple[str, str, set[str]]]:
    """Per path of the document, a method it does not declare, and the ones it does."""
    declared: dict[str, set[str]] = {}
    for method, path in OPERATIONS:
        declared.setdefault(path, set()).add(method)
    return [(next(m for m in ("DELETE", "PUT", "PATCH", "POST") if m not in methods), path,
             methods) for path, methods in declared.items()]


@pytest.mark.parametrize(("method", "path", "declared"), _undocumented(),
                         ids=[f"{m} {p}" for m, p, _ in _undocumented()])
def test_a_method_the_document_does_not_declare_is_405_with_allow(client, tokens, make_return,
                                                                   method, path, declared):
    """Each resource of the document, asked with a method it does not take: a 405 problem
    whose `Allow` lists the methods the document declares (the `allow_on_405` check)."""
    known = {"rma": make_return("1001")["rma"], "number": "1001", "endpoint_id": "1",
             "delivery_id": "1", "photo_id": "1", "user_id": "1"}
    url = re.sub(r"{(\w+)}", lambda m: known.get(m.group(1), "x"), path)
    response = client.open(url, method=method,
                           headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    allow_on_405(None, response, SimpleNamespace(method=method, formatted_path=url))
    assert declared <= {m.strip() for m in response.headers["Allow"].split(",")}


@pytest.mark.parametrize(("method", "path", "kw"), [
    ("GET", "/api/v1/returns", {"query_string": "status=a%00b"}),
    ("GET", "/api/v1/returns", {"query_string": "q=R-%00"}),
    ("POST", "/api/v1/orders", {"data": b'{"number": "A\\u0000"}',
                                "content_type": "application/json"}),
])
def test_nul_characters_are_refused_as_invalid_input_not_a_server_error(api, method, path, kw):
    """Found by the fuzzer: PostgreSQL text cannot hold NUL, which used to answer 500."""
    response = api.client.open(path, method=method, headers={
        "Authorization": f"Bearer {api.tokens['admin']}"}, **kw)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "NUL" in next(iter(response.json["errors"].values()))[0]
