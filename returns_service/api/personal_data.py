"""HTTP endpoints for one customer's personal data (GDPR access and erasure), admins only:
export every domain's data about an email, or erase it (409 with the reasons when some of
it is still needed). The email goes in the body, never in a URL that logs would keep."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from returns_service.db import db
from returns_service.http.auth import current_staff_actor, require
from returns_service.http.openapi import BEARER, PROBLEMS
from returns_service.returns import personal_data

blp = Blueprint("personal_data", __name__, url_prefix="/api/v1/personal-data",
                description="One customer's personal data: export it, erase it")


class CustomerIn(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254),
                          metadata={"example": "jane@example.com"})


class ErasureOut(Schema):
    erased = fields.Boolean(metadata={"description": "false: nothing was left to erase"})
    returns = fields.Integer(metadata={"description": "Returns anonymised"})
    orders = fields.Integer(metadata={"description": "Orders anonymised"})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "Rows (or files) changed, per domain"})


CUSTOMER_IN = CustomerIn()


@blp.route("/exports", methods=["POST"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.arguments(CUSTOMER_IN)
@blp.response(200)
@require("personal_data.manage")
def export(data: dict[str, Any]) -> Any:
    """Everything kept about the customer, by domain: orders, returns, conversations,
    refunds, store credit, feedback, shipments, emails, webhook deliveries."""
    return personal_data.export_customer(data["email"])


@blp.route("/erasures", methods=["POST"])
@blp.doc(security=BEARER, responses={**PROBLEMS, "409": {
    "description": "Some of the data is still needed (a return in progress, a refund under "
                   "way, unspent store credit): nothing was erased; `reasons` says why."}})
@blp.arguments(CUSTOMER_IN)
@blp.response(200, ErasureOut)
@require("personal_data.manage")
def erase(data: dict[str, Any]) -> Any:
    """Erase the customer's personal data in every domain, keeping amounts, reasons,
    statuses and timings. Asked again, it answers `erased: false`: nothing is left."""
    actor = current_staff_actor()
    result = personal_data.erase_customer(data["email"], actor_id=actor.id,
                                          actor_label=actor.label)
    db.session.commit()
    return result
