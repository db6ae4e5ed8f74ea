"""A read replica for reports (REPORTS_DATABASE_URL): the service-quality report and the
dashboard read it, everything else keeps using the primary."""

from __future__ import annotations

from typing import Any

import pytest
from flask_migrate import upgrade

from returns_service.db import db
from returns_service.staff import services as staff
from tests.conftest import Api, order_payload


@pytest.mark.postgres
def test_the_report_reads_the_replica_and_changes_go_to_the_primary(
        build_app: Any, fresh_database: str, tokens: dict[str, str]) -> None:
    # Stand-in replica: a database of its own with the schema and two returns the primary
    # does not have (a real replica follows the primary a little behind).
    replica = build_app(DATABASE_URL=fresh_database)
    with replica.app_context():
        upgrade(directory=replica.extensions["migrate"].directory)
    with replica.app_context():
        user = staff.create_user("shop@replica.test", "integration",
                                 "Quiet harbour lanterns 2026", "Replica shop")
        replica_token = staff.mint_token(user, "test")
        db.session.commit()
    on_replica = replica.test_client()
    headers = {"Authorization": f"Bearer {replica_token}"}
    for number in ("R1", "R2"):
        assert on_replica.post("/api/v1/orders", json=order_payload(number),
                               headers=headers).status_code == 201
        assert on_replica.post("/api/v1/returns", json={
            "order_number": number, "email": "jane@example.com",
            "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]}).status_code == 201

    app = build_app(REPORTS_DATABASE_URL=fresh_database)
    api = Api(app.test_client(), tokens)
    report = api.get("/api/v1/reports/service", as_="agent").json
    assert report["volume"]["requested"] == 2  # the replica's returns
    assert api.get("/api/v1/returns", as_="agent").json["total"] == 0  # the primary's
