"""Which function handles each outbox topic. Domains register with @handler("topic")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[[dict[str, Any]], Any]
HANDLERS: dict[str, Handler] = {}


def handler(topic: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[topic] = fn
        return fn

    return register


class RetryLater(Exception):
    """Raised by a handler for a transient failure: the message stays and is tried again."""
