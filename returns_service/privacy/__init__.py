"""Personal data: the registry each domain adds its eraser, exporter and holds to (in its own
`init_app`), the pass that runs them over a scope, and the audit of every erasure. Which
returns are due (retention) and whose data a request covers are the returns domain's rules
(returns.personal_data); what each table holds is its own domain's."""

from flask import Flask

from returns_service.privacy import models
from returns_service.privacy.registry import (
    Hold,
    Scope,
    register_eraser,
    register_exporter,
    register_hold,
)

__all__ = ["Hold", "Scope", "init_app", "models", "register_eraser", "register_exporter",
           "register_hold"]


def init_app(app: Flask) -> None:
    """An empty registry for this app: the domains above fill it from their own init_app."""
    app.extensions.setdefault("personal_data", {"erasers": {}, "exporters": {}, "holds": {}})
