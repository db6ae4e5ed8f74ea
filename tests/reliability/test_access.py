"""Access control, generated from the app's URL map so new endpoints are checked too.

Every JSON endpoint either declares its permission with @require (then: 401 without a token,
403 for each role it does not allow, whatever the body) or is one of the few public ones
listed here. Customers reach their returns only with order number + email (or a signed
status link); changing any of those never reveals or changes someone else's return.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from returns_service import create_app
from returns_service.returns.links import LinkInvalid, rma_from_token, status_token
from returns_service.staff.models import ROLES
from returns_service.staff.permissions import roles_for

# Endpoints anyone may call: the API description, and what a customer with an order number
# and email may do. Webhooks authenticate by signature (checked below), not by token.
PUBLIC = {"api-docs.openapi_json", "orders.eligibility", "returns.create_return"}


def _routes() -> list[tuple[str, str, str, tuple[str, ...] | None]]:
    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x", "REDIS_URL": None})
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        action = getattr(view, "required_action", None)
        roles = None if action is None else roles_for(action)
        if not rule.rule.startswith("/api/") and roles is None:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            found.append((rule.endpoint, method, path, roles))
    return found


ROUTES = _routes()
PROTECTED = [(m, p, r) for e, m, p, r in ROUTES if r is not None]


def test_every_api_endpoint_declares_its_roles_or_is_knowingly_public():
    undeclared = {e for e, _, p, r in ROUTES if r is None and p.startswith("/api/")}
    assert undeclared <= PUBLIC, f"add @require or list as public: {undeclared - PUBLIC}"
    assert len(PROTECTED) >= 9  # the generator found the staff endpoints


@pytest.fixture
def existing(app: Flask, make_return: Any) -> dict[str, str]:
    ret = make_return("S1")
    # Ids of things that need not exist: the token is refused before anything is read.
    return {"rma": ret["rma"], "number": "S1", "code": "RS-7KQ4-M2XD-9PTN", "redemption_id": "1",
            "endpoint_id": "1", "delivery_id": "1", "product_id": "shirt-1", "order_id": "1",
            "photo_id": "1", "user_id": "1"}


@pytest.mark.parametrize(("method", "path", "roles"), PROTECTED,
                         ids=[f"{m} {p}" for m, p, _ in PROTECTED])
def test_staff_endpoint_refuses_missing_bad_and_wrong_role_tokens_before_reading_input(
        api, existing, method, path, roles):
    url = path.format(**existing)
    before = api.get(f"/api/v1/returns/{existing['rma']}", as_="admin").json
    for body in (None, {}, {"items": "nonsense"}):
        response = api.call(method, url, json=body)
        assert response.status_code == 401, (body, response.json)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for header in ("Bearer rsk_not-a-real-token", "Basic YWRtaW46cHc=", "Bearer "):
        response = api.call(method, url, json={}, headers={"Authorization": header})
        assert response.status_code == 401, header
    for role in ROLES:
        if role == "admin" or role in roles:
            continue
        for body in ({}, {"items": "nonsense"}):
            response = api.call(method, url, as_=role, json=body)
            assert response.status_code == 403, (role, body, response.json)
    after = api.get(f"/api/v1/returns/{existing['rma']}", as_="admin").json
    assert (after["status"], after["version"]) == (before["status"], before["version"])


def test_revoked_token_is_refused(app, api, existing):
    from returns_service.db import db
    from returns_service.staff.services import revoke_token

    assert api.get("/api/v1/returns", as_="agent").status_code == 200
    with app.app_context():
        assert revoke_token(api.tokens["agent"][:12]) == 1
        db.session.commit()
    assert api.get("/api/v1/returns", as_="agent").status_code == 401


# --- customers ------------------------------------------------------------------------------

@pytest.fixture
def two_customers(make_order: Any, api: Any) -> dict[str, Any]:
    make_order("C1", email="ann@example.com")
    make_order("C2", email="bob@example.com")
    item = [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]
    ann = api.post("/api/v1/returns", json={"order_number": "C1", "email": "ann@example.com",
                                            "items": item}).json
    return {"ann": ann, "item": item}


@pytest.mark.parametrize(("number", "email"), [
    ("C1", "bob@example.com"),   # Bob's email on Ann's order
    ("C2", "ann@example.com"),   # Ann's email on Bob's order
    ("C9", "ann@example.com"),   # an order that does not exist
])
def test_customer_cannot_use_or_probe_another_customers_order(api, two_customers, number, email):
    create = api.post("/api/v1/returns", json={"order_number": number, "email": email,
                                               "items": two_customers["item"]})
    eligibility = api.get(f"/api/v1/orders/{number}/eligibility", query={"email": email})
    for response in (create, eligibility):
        assert response.status_code == 404
        # One answer for "wrong email" and "no such order": nothing to enumerate.
        assert response.json["detail"] == ("We could not find an order with that number and "
                                            "email address.")


def test_customer_without_a_token_cannot_read_or_cancel_any_return(api, two_customers):
    rma = two_customers["ann"]["rma"]
    for method, path in [("GET", f"/api/v1/returns/{rma}"),
                         ("GET", f"/api/v1/returns/{rma}/events"),
                         ("POST", f"/api/v1/returns/{rma}/cancel"),
                         ("GET", "/api/v1/orders/C1")]:
        response = api.call(method, path, json={} if method == "POST" else None)
        assert response.status_code == 401
    assert api.get(f"/api/v1/returns/{rma}", as_="agent").json["status"] == "requested"


def test_status_link_for_one_return_cannot_be_turned_into_another(app, two_customers):
    from returns_service.common.errors import NotFound
    from returns_service.returns.services import find_customer_return

    rma = two_customers["ann"]["rma"]
    with app.test_request_context():
        token = status_token(rma)
        assert rma_from_token(token) == rma
        other = status_token("RMA-OTHER1")
        payload, signature = token.rsplit(".", 1)
        # Another return's payload under this signature, a tampered signature, garbage.
        forged = [other.rsplit(".", 1)[0] + "." + signature, payload + "." + signature[::-1],
                  token[:-2], "", "x.y.z"]
        for candidate in forged:
            with pytest.raises(LinkInvalid):
                rma_from_token(candidate)
        with app.app_context():
            assert find_customer_return(rma, "ANN@example.com ").rma == rma
            with pytest.raises(NotFound):
                find_customer_return(rma, "bob@example.com")


def test_webhook_endpoints_refuse_unsigned_posts(app, client):
    """Every /webhooks/ route rejects a post without a valid signature or shared secret."""
    app.config.update(STRIPE_WEBHOOK_SECRET="whsec_test_access",
                      MAILGUN_WEBHOOK_SIGNING_KEY="key-access", TWILIO_AUTH_TOKEN="tw-access",
                      INBOUND_EMAIL_BASIC_AUTH="inbound:access",
                      INBOUND_EMAIL_URL_SECRET="url-secret-access",
                      EASYPOST_WEBHOOK_SECRET="easypost_test_access")
    values = {"provider": ("mailgun", "postmark", "sendgrid"), "secret": ("wrong-secret",)}
    paths = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/webhooks/"):
            continue
        expanded = [rule.rule]
        for name in rule.arguments:
            expanded = [p.replace(f"<{name}>", v) for p in expanded for v in values[name]]
        paths.extend(expanded)
    assert len(paths) >= 10
    for path in paths:
        for headers in ({}, {"Stripe-Signature": "t=1,v1=deadbeef",
                             "X-Twilio-Signature": "deadbeef",
                             "X-Hmac-Signature": "hmac-sha256-hex=deadbeef",
                             "Authorization": "Basic aW5ib3VuZDpndWVzcw=="}):
            response = client.post(path, data=b'{"id": "evt_1"}', headers=headers,
                                   content_type="application/json")
            assert response.status_code in (400, 401, 403, 404), (path, response.status_code)
            assert response.mimetype == "application/problem+json", path
