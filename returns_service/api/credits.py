"""HTTP endpoints for store credit: the store reads a code's balance, redeems it for an order
(an Idempotency-Key is required, so a retried request is recorded once), and reverses a
redemption when the order is cancelled."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import request
from flask_smorest import Blueprint

from returns_service.common.errors import DomainError
from returns_service.common.errors import NotFound as NotFoundError
from returns_service.credits import services
from returns_service.credits.schemas import (
    CreditOut,
    RedemptionIn,
    RedemptionOut,
    ReversalIn,
    ReversalOut,
)
from returns_service.db import db
from returns_service.http.auth import current_staff_actor, require
from returns_service.http.openapi import BEARER, PROBLEMS

# Schema instances built once (webargs would build one per request from a class).
REDEMPTION_IN, REVERSAL_IN = RedemptionIn(), ReversalIn()

IDEMPOTENCY_KEY: dict[str, Any] = {
    "in": "header", "name": "Idempotency-Key", "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Your key for this redemption (a UUID, say), kept with it: the same key "
                   "again answers the first result, status and body alike, and records "
                   "nothing new; with another amount or order reference it is a 422."}
REPLAYED: dict[str, Any] = {"Idempotent-Replayed": {
    "description": "`true` when this answers an earlier request with the same key",
    "schema": {"type": "string"}}}

blp = Blueprint("credits", __name__, url_prefix="/api/v1/credits",
                description="Store credit: balances, redemptions and their reversals")


class IdempotencyKeyMissing(DomainError):
    status, type, title = 400, "idempotency-key-missing", "Idempotency-Key header required"


def idempotency_key() -> str:
    """The request's Idempotency-Key: 1 to 255 printable characters."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 255 or not key.isprintable():
        raise IdempotencyKeyMissing(
            "Send an 'Idempotency-Key' header (1 to 255 printable characters, a UUID say), "
            "new for each redemption and the same when you retry one.")
    return key


def _actor() -> dict[str, Any]:
    actor = current_staff_actor()
    return {"actor_type": actor.type, "actor_id": actor.id, "actor_label": actor.label}


def _replayed(replayed: bool) -> dict[str, str]:
    return {"Idempotent-Replayed": "true"} if replayed else {}


@blp.route("/<code>", methods=["GET"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.response(200, CreditOut)
@require("credits.read")
def get_credit(code: str) -> Any:
    """A credit code's balance, currency and status (any case, dashes optional)."""
    summary = services.credit_summary(db.session, code)
    return {"code": summary.code.code, "currency": summary.code.currency,
            "balance": summary.balance, "status": summary.status,
            "expires_at": summary.code.expires_at}


@blp.route("/<code>/redemptions", methods=["POST"])
@blp.doc(security=BEARER, responses=PROBLEMS, parameters=[IDEMPOTENCY_KEY])
@blp.arguments(REDEMPTION_IN)
@blp.response(201, RedemptionOut, headers=REPLAYED)
@require("credits.redeem")
def redeem(data: dict[str, Any], code: str) -> Any:
    """Take an amount off the code for an order. Never more than it holds (409 with the
    `balance`), exactly once per Idempotency-Key."""
    result = services.redeem(db.session, code, amount=data["amount"],
                             order_reference=data["order_reference"],
                             idempotency_key=idempotency_key(), currency=data["currency"],
                             **_actor())
    db.session.commit()  # the result holds plain values: nothing is read after the commit
    return dataclasses.asdict(result), 201, _replayed(result.replayed)


@blp.route("/<code>/redemptions/<redemption_id>/reversal", methods=["POST"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.arguments(REVERSAL_IN)
@blp.response(201, ReversalOut, headers=REPLAYED)
@blp.alt_response(200, schema=ReversalOut, description="Reversed before: the first reversal, "
                                                       "nothing added")
@require("credits.redeem")
def reverse(data: dict[str, Any], code: str, redemption_id: str) -> Any:
    """Put a redemption back on its code (the order was cancelled), once: asked again, the
    answer is the first reversal with status 200."""
    if not redemption_id.isdigit() or len(redemption_id) > 18:
        raise NotFoundError(f"No redemption {redemption_id[:40]!r} on this code.")
    result = services.reverse_redemption(db.session, code, int(redemption_id),
                                         reason=data["reason"], **_actor())
    db.session.commit()
    return dataclasses.asdict(result), 200 if result.replayed else 201, _replayed(result.replayed)
