"""Which function handles each outbox topic. Each domain registers its handlers from its
`init_app` (`register_handler("refund.execute", run_refund)`), so a web process and a worker
built by the same `create_app` know the same topics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from returns_service.common.errors import RetryLater

__all__ = ["HANDLERS", "Handler", "RetryLater", "register_handler"]

Handler = Callable[[dict[str, Any]], Any]
HANDLERS: dict[str, Handler] = {}


def register_handler(topic: str, fn: Handler) -> None:
    """Route outbox messages of `topic` to `fn` (the same function again is a no-op)."""
    HANDLERS[topic] = fn
