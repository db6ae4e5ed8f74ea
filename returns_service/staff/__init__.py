"""Staff: users with a role, their console sessions and API tokens, and the one permissions
table (`staff.permissions`) every door reads."""

from flask import Flask

from returns_service.staff import models

__all__ = ["init_app", "models"]


def init_app(app: Flask) -> None:
    """Staff register no receivers or jobs; their tables come with `models`."""
