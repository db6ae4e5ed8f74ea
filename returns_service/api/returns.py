"""HTTP endpoints for returns: customers request, staff list, read, decide and receive."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_smorest import Blueprint

from returns_service.api.present import return_dict, return_dicts, return_json
from returns_service.common.errors import ValidationFailed
from returns_service.db import db
from returns_service.http.auth import (
    current_api_user,
    current_staff_actor,
    require,
    staff_actor,
)
from returns_service.http.openapi import A_CHANGE, BEARER, ETAG, LOOKUP_PROBLEMS, PROBLEMS
from returns_service.http.rate_limits import limit_lookups
from returns_service.orders.services import find_customer_order, get_order, lock_order
from returns_service.refunds.adjustments import adjust_payout
from returns_service.refunds.amounts import claims_and_figures
from returns_service.refunds.credit import convert_credit_to_refund
from returns_service.returns import services
from returns_service.returns.schemas import (
    AdjustmentIn,
    EventOut,
    ListQuery,
    ReceiveIn,
    RejectIn,
    ResolutionIn,
    ReturnIn,
    ReturnOut,
    ReturnPageOut,
    VersionedIn,
)
from returns_service.shipping.services import shipment_json
from returns_service.staff.permissions import user_may
from workflows.returns import Actor

# Lists count matches up to this many; beyond it `total_capped` says "more than total".
COUNT_LIMIT = 10_000

# Schema instances built once: given a class, webargs builds one (and its nested ones) for
# every request.
RETURN_IN, VERSIONED_IN, RECEIVE_IN = ReturnIn(), VersionedIn(), ReceiveIn()

blp = Blueprint("returns", __name__, url_prefix="/api/v1/returns",
                description="Return requests (RMAs) and their workflow")


def expected_version(data: dict[str, Any]) -> int | None:
    """From the body's expected_version, or an If-Match header carrying the ETag."""
    if data.get("expected_version") is not None:
        return int(data["expected_version"])
    header = request.headers.get("If-Match", "").strip().strip('W/').strip('"')
    if not header or header == "*":
        return None
    if not header.isdigit():
        raise ValidationFailed({"If-Match": ["Must be the return's ETag, e.g. \"3\"."]})
    return int(header)


def may_see_status_link() -> bool:
    """The customer's status link lets whoever holds it cancel the return: it is shown to
    the customer who asked (no token) and to roles that may cancel (agents, admins), not to
    warehouse or integration tokens, which may not."""
    user = current_api_user()
    return user is None or user_may(user, "status_link.see")


def respond(ret: Any, status: int = 200, **known: Any) -> Any:
    """The return as ReturnOut shows it, serialised here (present.return_json) rather than
    dumped field by field by the response schema, which documents it."""
    links = may_see_status_link()
    shown = return_json(return_dict(ret, status_link=links, **known))
    shown["shipment"] = shipment_json(ret, links=links)
    return current_app.json.response(shown), status, {"ETag": f'"{ret.version}"'}


def change_endpoint(blueprint: Any, path: str, schema: Any) -> Any:
    """The documented shape of every change to a return: POST `path` with `schema` (which
    carries expected_version), If-Match, the problems it may answer, and the return as it
    now is with its ETag."""
    decorators = (blueprint.route(path, methods=["POST"]), blueprint.doc(**A_CHANGE),
                  blueprint.arguments(schema),
                  blueprint.response(200, ReturnOut, headers=ETAG))

    def decorate(view: Any) -> Any:
        for decorator in reversed(decorators):
            view = decorator(view)
        return view

    return decorate


def commit_and_respond(ret: Any, status: int = 200, **known: Any) -> Any:
    """Render what is about to be committed, then commit. Rendering after the commit would
    reload every expired attribute (about ten more queries per request). `known`: what the
    caller already knows of the return (return_dict's keyword arguments)."""
    response = respond(ret, status, **known)
    db.session.commit()
    return response


@blp.route("", methods=["POST"])
@limit_lookups("POST")  # customers (no token) look the order up by number + email
@blp.doc(security=[{}, *BEARER], responses=LOOKUP_PROBLEMS)
@blp.arguments(RETURN_IN)
@blp.response(201, ReturnOut, headers=ETAG)
def create_return(data: dict[str, Any]) -> Any:
    """Request a return: customers with order number + email, staff on a customer's behalf."""
    user = current_api_user()
    if user_may(user, "return.create_for_customer"):
        order = (find_customer_order(data["order_number"], data["email"], lock=True)
                 if data["email"]
                 else get_order(data["order_number"]))
        channel = data["channel"] or "api"
        actor = staff_actor(user)
    else:
        if not data["email"]:
            raise ValidationFailed({"email": ["Missing data for required field."]})
        order = find_customer_order(data["order_number"], data["email"], lock=True)
        channel, actor = "api", Actor("customer", None, order.email)
    lock_order(order.id)  # held already when read with the email
    # Under the order's lock, one query for what its lines have claimed and the figures
    # the answer shows: neither changes before the commit.
    claimed, figures = claims_and_figures(order)
    ret = services.create_return(order, data["items"], channel=channel, actor=actor,
                                 claimed=claimed, resolution=data["resolution"])
    return commit_and_respond(ret, 201, refunds=[], figures=figures)  # no refunds yet


@blp.route("", methods=["GET"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.arguments(ListQuery, location="query")
@blp.response(200, ReturnPageOut)
@require("returns.read")
def list_returns(query: dict[str, Any]) -> Any:
    """Search returns by status, channel, reason, or q (RMA, order number, email)."""
    rows, total = services.list_returns(
        status=query["status"], q=query["q"], channel=query["channel"], reason=query["reason"],
        page=query["page"], per_page=query["per_page"], count_limit=COUNT_LIMIT)
    return {"items": return_dicts(rows, status_link=may_see_status_link()),
            "page": query["page"],
            "per_page": query["per_page"], "total": min(total, COUNT_LIMIT),
            "total_capped": total > COUNT_LIMIT}


@blp.route("/<rma>", methods=["GET"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.response(200, ReturnOut, headers=ETAG)
@require("returns.read")
def get_return(rma: str) -> Any:
    """A return with its items, refund breakdown and allowed actions. ETag = version."""
    return respond(services.get_return(rma))


@blp.route("/<rma>/events", methods=["GET"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.response(200, EventOut(many=True))
@require("returns.read")
def get_events(rma: str) -> Any:
    """The audit trail: every status change, note and notification, oldest first."""
    return services.events_of(services.get_return(rma))


@change_endpoint(blp, "/<rma>/approve", VERSIONED_IN)
@require("return.approve")
def approve(data: dict[str, Any], rma: str) -> Any:
    """Approve a requested return."""
    ret = services.approve_return(rma, current_staff_actor(), note=data["note"],
                                  expected_version=expected_version(data))
    return commit_and_respond(ret)


@change_endpoint(blp, "/<rma>/reject", RejectIn)
@require("return.reject")
def reject(data: dict[str, Any], rma: str) -> Any:
    """Reject a requested return with a reason from the policy's list and a customer note."""
    ret = services.reject_return(rma, current_staff_actor(), reason=data["reason"],
                                 note=data["note"], expected_version=expected_version(data))
    return commit_and_respond(ret)


@change_endpoint(blp, "/<rma>/cancel", VERSIONED_IN)
@require("return.cancel")
def cancel(data: dict[str, Any], rma: str) -> Any:
    """Cancel a return that has not been received yet."""
    ret = services.cancel_return(rma, current_staff_actor(), note=data["note"],
                                 expected_version=expected_version(data))
    return commit_and_respond(ret)


@change_endpoint(blp, "/<rma>/receive", RECEIVE_IN)
@require("return.receive")
def receive(data: dict[str, Any], rma: str) -> Any:
    """Record what arrived and in what condition; starts the refund."""
    ret = services.receive_return(rma, data["items"], current_staff_actor(), note=data["note"],
                                  expected_version=expected_version(data))
    return commit_and_respond(ret)


@change_endpoint(blp, "/<rma>/resolution", ResolutionIn)
@require("return.choose_resolution")
def choose_resolution(data: dict[str, Any], rma: str) -> Any:
    """Change how the customer is made whole (refund or store credit) for them, until the
    refund or the credit starts."""
    ret = services.choose_resolution(rma, data["resolution"], current_staff_actor(),
                                     expected_version=expected_version(data))
    return commit_and_respond(ret)


@change_endpoint(blp, "/<rma>/adjustments", AdjustmentIn)
@require("return.adjust")
def adjust(data: dict[str, Any], rma: str) -> Any:
    """Add goodwill to, or deduct from, what the return pays out, with a reason from the
    policy; above the policy's agent limit only admins may (403)."""
    ret = adjust_payout(
        rma, current_staff_actor(), kind=data["kind"], amount=data["amount"],
        reason=data["reason"], note=data["note"],
        above_limit_allowed=user_may(current_api_user(), "return.adjust_above_limit"),
        expected_version=expected_version(data))
    return commit_and_respond(ret)


@change_endpoint(blp, "/<rma>/convert-credit", VERSIONED_IN)
@require("credit.convert_to_refund")
def convert_credit(data: dict[str, Any], rma: str) -> Any:
    """Admins: turn what is left of a credited return's store credit into a refund to the
    original payment, when the policy allows it (its bonus is never paid out as money)."""
    refund = convert_credit_to_refund(rma, current_staff_actor(), note=data["note"],
                                      expected_version=expected_version(data))
    return commit_and_respond(refund.return_)
