"""Background entry point of exchanges (an outbox handler): a thin wrapper calling the
instant-exchange charge by id. Registered by `returns_service.exchanges.init_app`."""

from typing import Any

from returns_service.exchanges.instant import charge_missing_item


def run_charge_missing_item(payload: dict[str, Any]) -> str:
    """Charge an instant exchange's saved card for an original that never arrived (topic
    `exchange.charge_missing_item`); the outbox commits the outcome with its processed
    mark."""
    return charge_missing_item(int(payload["exchange_id"]))
