"""SQL statements per request for each endpoint, counted in-process with the test client.

A SQLAlchemy `before_cursor_execute` listener counts what one request sends. The staff list
is measured with 1 and with 50 returns in the database (and on the page): the count must
not grow with the size of the answer.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from returns_service import create_app
from returns_service.common import clock
from returns_service.db import db


def _order(number: str, email: str) -> dict[str, Any]:
    now = clock.utcnow()
    return {"number": number, "email": email, "customer_name": "Q", "currency": "EUR",
            "placed_at": (now - timedelta(days=8)).isoformat(),
            "delivered_at": (now - timedelta(days=5)).isoformat(), "shipping_total": 500,
            "payment": {"payment_intent": f"pi_{number}"},
            "lines": [{"sku": "A", "name": "A", "quantity": 2, "unit_price": 1000},
                      {"sku": "B", "name": "B", "quantity": 1, "unit_price": 3000}]}


def measure(database_url: str | None = None) -> list[dict[str, Any]]:
    """Rows of {endpoint, results, queries} for every JSON endpoint."""
    from flask_migrate import upgrade

    from returns_service.staff import services as staff

    tmp = tempfile.mkdtemp(prefix="bench-sql-")
    url = database_url or f"sqlite:///{Path(tmp) / 'q.db'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "REDIS_URL": None,
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
        tokens = {}
        for role in ("agent", "warehouse", "integration"):
            tokens[role] = staff.mint_token(staff.create_user(f"{role}@q.test", role))
        db.session.commit()
        engine = db.engine
    client = app.test_client()
    counted: list[str] = []

    def listener(*_args: Any) -> None:
        counted.append("q")

    def call(method: str, path: str, as_: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {tokens[as_]}"} if as_ else {}
        counted.clear()
        event.listen(engine, "before_cursor_execute", listener)
        try:
            response = client.open(path, method=method, headers=headers, **kw)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert response.status_code < 400, (path, response.status_code, response.get_json())
        return response, len(counted)

    def new_return(n: int) -> str:
        client.post("/api/v1/orders", json=_order(f"Q{n}", f"c{n}@q.test"),
                    headers={"Authorization": f"Bearer {tokens['integration']}"})
        response = client.post("/api/v1/returns", json={
            "order_number": f"Q{n}", "email": f"c{n}@q.test",
            "items": [{"sku": "A", "quantity": 1, "reason": "damaged"},
                      {"sku": "B", "quantity": 1, "reason": "doesnt_fit"}]})
        return response.get_json()["rma"]

    rows: list[dict[str, Any]] = []

    def record(endpoint: str, results: int, fn: Callable[[], Any]) -> None:
        _, n = fn()
        rows.append({"endpoint": endpoint, "results": results, "queries": n})

    first = new_return(0)
    record("GET /returns (list)", 1, lambda: call("GET", "/api/v1/returns?per_page=100", "agent"))
    record("GET /returns?q=email", 1,
           lambda: call("GET", "/api/v1/returns?q=c0@q.test", "agent"))
    record("GET /returns/{rma}", 1, lambda: call("GET", f"/api/v1/returns/{first}", "agent"))
    record("GET /returns/{rma}/events", 1,
           lambda: call("GET", f"/api/v1/returns/{first}/events", "agent"))
    record("GET /orders/{n}", 1, lambda: call("GET", "/api/v1/orders/Q0", "agent"))
    record("GET /orders/{n}/eligibility", 1,
           lambda: call("GET", "/api/v1/orders/Q0/eligibility?email=c0@q.test"))
    record("POST /orders (update)", 1, lambda: call(
        "POST", "/api/v1/orders", "integration", json=_order("Q0", "c0@q.test")))
    record("POST /returns", 1, lambda: (client.post("/api/v1/orders", json=_order(
        "Q999", "c999@q.test"), headers={"Authorization": f"Bearer {tokens['integration']}"}),
        call("POST", "/api/v1/returns", json={
            "order_number": "Q999", "email": "c999@q.test",
            "items": [{"sku": "A", "quantity": 1, "reason": "damaged"}]}))[1])
    record("POST /returns/{rma}/approve", 1,
           lambda: call("POST", f"/api/v1/returns/{first}/approve", "agent", json={}))
    record("POST /returns/{rma}/receive", 1, lambda: call(
        "POST", f"/api/v1/returns/{first}/receive", "warehouse", json={"items": [
            {"sku": "A", "quantity": 1, "condition": "resellable"},
            {"sku": "B", "quantity": 1, "condition": "damaged"}]}))
    record("GET /returns/{rma} (refund pending)", 1,
           lambda: call("GET", f"/api/v1/returns/{first}", "agent"))
    for n in range(1, 50):
        rma = new_return(n)
        if n % 5 == 0:
            call("POST", f"/api/v1/returns/{rma}/approve", "agent", json={})
    # Same e-mail on 50 returns: the search answer grows too.
    record("GET /returns (list)", 50, lambda: call("GET", "/api/v1/returns?per_page=100",
                                                   "agent"))
    record("GET /returns?status=approved", 10,
           lambda: call("GET", "/api/v1/returns?status=approved&per_page=100", "agent"))
    record("GET /orders/{n}", 1, lambda: call("GET", "/api/v1/orders/Q0", "agent"))
    with app.app_context():
        db.engine.dispose()
    return rows
