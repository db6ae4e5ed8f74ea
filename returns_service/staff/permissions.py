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
    # Refund or store credit, changed for the customer before the payout starts.
    "return.choose_resolution": ("agent",),
    # Goodwill or a deduction on what a return pays out, up to the policy's agent limit…
    "return.adjust": ("agent",),
    # …and above it.
    "return.adjust_above_limit": (),
    # Store credit turned back into a refund to the original payment (policy permitting).
    "credit.convert_to_refund": (),
    # The customer conversation: reading it, replying (email or SMS), applying a macro.
    "conversation.read": ("agent", "warehouse"),
    "photos.read": ("agent", "warehouse", "integration"),  # customers' photos, attachments
    "conversation.reply": ("agent",),
    # Staff-only notes on a return (never shown to the customer), with @mentions.
    "conversation.note": ("agent", "warehouse"),
    # Claiming a return, assigning or unassigning it; bulk actions check each return's own
    # action (approve, reject) besides this.
    "return.assign": ("agent",),
    "queue.bulk": ("agent",),
    # Marking a colleague away or back for the round robin (everyone sets their own).
    "agents.availability": (),
    # Canned responses: everyone who replies uses them, admins write them.
    "macros.manage": (),
    # Every return, message and refund of one customer email.
    "customers.read": ("agent",),
    "orders.read": ("agent", "warehouse", "integration"),
    "orders.import": ("integration",),
    "reports.read": ("agent",),
    # Store credit: the store reads and redeems codes; agents look codes up for customers.
    "credits.read": ("agent", "integration"),
    "credits.redeem": ("integration",),
    # Outbound webhooks: admins register endpoints and see their secrets (once); the store's
    # integration may read the delivery log, resend events and send a test event.
    "webhooks.manage": (),
    "webhooks.read": ("integration",),
    "webhooks.send": ("integration",),
    # Exchanges: the store keeps the catalog and ships exchange orders; agents may swap a
    # returned line for another variant for the customer.
    "catalog.write": ("integration",),
    "catalog.read": ("agent", "warehouse", "integration"),
    "exchange.request": ("agent",),
    "exchange_orders.read": ("warehouse", "integration"),
    "exchange_orders.ship": ("warehouse", "integration"),
    # The customer's status link can cancel the return: shown to those who may cancel.
    "status_link.see": ("agent",),
    # console only (integration users are machine clients: API tokens, no sign-in)
    "console.sign_in": ("agent", "warehouse"),
    "console.decide": ("agent",),
    "console.receive": ("warehouse",),
    "credits.view": ("agent",),  # the Store credit page: a customer's codes and ledgers
    "staff.manage": (),
    "brand.manage": (),  # the Branding page: store name, logo, colour, footer
    "jobs.monitor": (),  # the RQ dashboard: queues, workers, failed jobs
    # bin/demo only (DEMO_MODE): every email the demo sent, whoever it was to
    "demo.mailbox": (),
    # One customer's personal data: export it, erase it (API and console).
    "personal_data.manage": (),
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
