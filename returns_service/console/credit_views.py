"""Agent page: a customer's store credit. Search by email; every code of that email with
its balance, status and ledger entries (what was issued, redeemed, reversed, expired)."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from sqlalchemy import select

from returns_service.console import bp
from returns_service.console.access import permission_required
from returns_service.credits.services import codes_for_email, normalise_email
from returns_service.db import db
from returns_service.returns.models import Return

KIND_LABELS = {"issue": "Issued", "bonus": "Bonus", "redeem": "Redeemed",
               "reverse": "Redemption reversed", "expire": "Expired",
               "refund_conversion": "Turned into a refund"}
STATUS_BADGES = {"active": "ok", "spent": "", "expired": "bad"}


@bp.get("/credits")
@permission_required("credits.view")
def credits() -> Any:
    email = normalise_email(request.args.get("email", ""))
    error, ledgers, rmas = None, None, {}
    if email:
        if "@" not in email or len(email) > 320 or " " in email:
            error = "Enter the customer's email address, e.g. jane@example.com."
        else:
            ledgers = codes_for_email(db.session, email)
            rmas = _rmas([s.code.source_return_id for s in ledgers])
    return render_template("console/credits.html", email=email, error=error, ledgers=ledgers,
                           rmas=rmas, kind_labels=KIND_LABELS,
                           badges=STATUS_BADGES), 422 if error else 200


def _rmas(return_ids: list[int | None]) -> dict[int, str]:
    """The RMA of each return a code was issued for, to link the code to its return."""
    wanted = [i for i in return_ids if i is not None]
    if not wanted:
        return {}
    rows = db.session.execute(select(Return.id, Return.rma).where(Return.id.in_(wanted)))
    return {row.id: row.rma for row in rows}
