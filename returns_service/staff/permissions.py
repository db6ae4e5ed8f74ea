"""Who may do what: one table of action -> roles, read by the API's `require` decorator, the
console's views and the buttons its pages show. Admins may do everything.

Roles: `agent` decides returns and talks to customers, `warehouse` receives parcels,
`integration` is a machine client (the store importing orders), `admin` manages staff.
"""

from __future__ import annotations

from typing import Any

from returns_service.staff.models import ROLES

__all__ = ["PERMISSIONS", "ROLES", "TRIGGER_ACTIONS", "role_may", "roles_for", "user_may"]

PERMISSIONS: dict[str, tuple[str, ...]] = {
    # JSON API and console alike
    "returns.read": ("agent", "warehouse", "integration"),
    "return.create_for_customer": ("agent",),
    "return.approve": ("agent",),
    "return.reject": ("agent",),
    "return.cancel": ("agent",),
    "return.receive": ("warehouse",),
    "refund.retry": ("agent",),
    # Buy a return label again after it failed (the address or the settings fixed).
    "shipping.retry_label": ("agent",),
    # Parcels on their way to the warehouse, with expected dates.
    "shipping.incoming": ("agent", "warehouse"),
    "refund.record_manual": ("agent",),
    # Recording a manual refund above what the return is still owed (with a reason).
    "refund.over_refund": (),
    "orders.read": ("agent", "warehouse", "integration"),
    "orders.import": ("integration",),
    "reports.read": ("agent",),
    # The customer's status link can cancel the return: shown to those who may cancel.
    "status_link.see": ("agent",),
    # console only (integration users are machine clients: API tokens, no sign-in)
    "console.sign_in": ("agent", "warehouse"),
    "console.decide": ("agent",),
    "console.receive": ("warehouse",),
    "staff.manage": (),
    "jobs.monitor": (),  # the RQ dashboard: queues, workers, failed jobs
    # bin/demo only (DEMO_MODE): every email the demo sent, whoever it was to
    "demo.mailbox": (),
}

# The workflow trigger each action fires, for the buttons shown on a return.
TRIGGER_ACTIONS: dict[str, str] = {
    "approve": "return.approve", "reject": "return.reject", "cancel": "return.cancel",
    "retry_refund": "refund.retry", "receive": "return.receive",
}


def roles_for(action: str) -> tuple[str, ...]:
    """The roles that may take `action` besides admin (KeyError for an unknown action)."""
    return PERMISSIONS[action]


def role_may(role: str | None, action: str) -> bool:
    return role == "admin" or role in roles_for(action)


def user_may(user: Any, action: str) -> bool:
    """Whether a staff user (or None, or an anonymous visitor) may take `action`."""
    return user is not None and role_may(getattr(user, "role", None), action)
