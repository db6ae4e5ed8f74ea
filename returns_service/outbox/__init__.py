"""The outbox: work for other processes (jobs) written in the caller's transaction, handed to
RQ after commit (or run in-process without Redis), re-sent by the relay when that never
happened. Domains register their topics' handlers from their `init_app`."""

from returns_service.outbox import models

__all__ = ["models"]
