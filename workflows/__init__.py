"""Every state machine of the service, one module per aggregate, each declared as data with
`transitions` and the only code that changes its aggregate's status (the smaller ones through
`row_machine.RowMachine`). `MACHINES` names them for `flask workflow graph NAME`."""

from types import ModuleType

from workflows import exchanges, returns, shipments, webhook_deliveries

# name -> module with TRANSITIONS, TRIGGERS, fire(), allowed_triggers() and mermaid()
MACHINES: dict[str, ModuleType] = {"exchanges": exchanges, "returns": returns,
                                    "shipments": shipments,
                                    "webhook_deliveries": webhook_deliveries}

__all__ = ["MACHINES"]
