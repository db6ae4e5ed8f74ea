"""Outbox handlers for refunds: thin wrappers that call the refund service by id."""

from typing import Any

from returns_service.outbox.registry import handler
from returns_service.refunds.services import execute_refund


@handler("refund.execute")
def run_refund(payload: dict[str, Any]) -> str:
    return execute_refund(int(payload["refund_id"]))
