"""Macros: canned responses an admin writes once, with placeholders filled per return
(`{customer_name}`, `{first_name}`, `{rma}`, `{refund_amount}`, `{status_link}`), which may
also approve the return when applied.

Placeholders are replaced by a plain lookup, never `str.format` (which would let a macro
reach into Python attributes)."""

from __future__ import annotations

import re

from sqlalchemy import select

from returns_service.common.errors import ValidationFailed
from returns_service.common.money import format_money
from returns_service.conversations.models import Macro
from returns_service.db import db
from returns_service.refunds.breakdown import refund_breakdown
from returns_service.returns.links import status_url
from returns_service.returns.models import Return

PLACEHOLDERS = {
    "customer_name": "the customer's full name",
    "first_name": "the customer's first name",
    "rma": "the return's code",
    "refund_amount": "the refund (or the expected refund before the parcel is checked)",
    "status_link": "the customer's status page link",
}
ACTIONS = {"": "Reply only", "approve": "Approve and reply"}
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def list_macros() -> list[Macro]:
    return list(db.session.scalars(select(Macro).order_by(Macro.name)))


def get_macro(macro_id: int) -> Macro | None:
    return db.session.get(Macro, macro_id)


def create_macro(name: str, body: str, action: str | None) -> Macro:
    """A new macro; unknown placeholders or a name already used are refused."""
    errors: dict[str, list[str]] = {}
    name, body = (name or "").strip(), (body or "").strip()
    if not name:
        errors["name"] = ["Give the macro a name."]
    elif db.session.scalar(select(Macro.id).where(Macro.name == name)) is not None:
        errors["name"] = ["A macro has this name already."]
    if not body:
        errors["body"] = ["Write the response."]
    unknown = sorted(set(_PLACEHOLDER.findall(body)) - set(PLACEHOLDERS))
    if unknown:
        errors["body"] = [f"Unknown placeholder {{{unknown[0]}}}; use one of "
                          + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS) + "."]
    if (action or "") not in ACTIONS:
        errors["action"] = ["Choose an action."]
    if errors:
        raise ValidationFailed(errors)
    macro = Macro(name=name, body=body, action=action or None)
    db.session.add(macro)
    db.session.flush()
    return macro


def delete_macro(macro_id: int) -> None:
    macro = db.session.get(Macro, macro_id)
    if macro is not None:
        db.session.delete(macro)
        db.session.flush()


def placeholder_values(ret: Return) -> dict[str, str]:
    order = ret.order
    name = order.customer_name.strip()
    amount = ret.refund_amount
    if amount is None:
        amount = refund_breakdown(ret, estimate=True).total
    return {"customer_name": name or "there", "first_name": name.split()[0] if name else "there",
            "rma": ret.rma, "refund_amount": format_money(int(amount or 0), order.currency),
            "status_link": status_url(ret.rma)}


def render_macro(macro: Macro, ret: Return) -> str:
    values = placeholder_values(ret)
    return _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), macro.body)
