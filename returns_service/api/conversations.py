"""HTTP endpoints of the agents' workspace: a return's conversation and internal notes,
agents' replies (sent once per Idempotency-Key), notes, claim / assign / unassign, and the
agents' availability for the round robin."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint

from returns_service.common.errors import DomainError, Forbidden, NotFound
from returns_service.conversations import round_robin, work
from returns_service.conversations import services as conversations
from returns_service.conversations.schemas import (
    AssignIn,
    AssignmentOut,
    AvailabilityIn,
    AvailabilityOut,
    ConversationOut,
    MessageOut,
    NoteIn,
    NoteOut,
    ReplyIn,
)
from returns_service.db import db, is_row_id
from returns_service.http.auth import current_api_user, require
from returns_service.http.openapi import BEARER, PROBLEMS
from returns_service.returns.models import Return
from returns_service.returns.services import get_return
from returns_service.staff.models import StaffUser

IDEMPOTENCY_KEY: dict[str, Any] = {
    "in": "header", "name": "Idempotency-Key", "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Your key for this reply (a UUID, say): the same key again answers the "
                   "first reply with status 200 and sends nothing more; with another text "
                   "or channel it is a 422."}
REPLAYED: dict[str, Any] = {"Idempotent-Replayed": {
    "description": "`true` when this answers an earlier request with the same key",
    "schema": {"type": "string"}}}

blp = Blueprint("conversations", __name__, url_prefix="/api/v1",
                description="The agents' workspace: conversations, internal notes, assignment")


class IdempotencyKeyMissing(DomainError):
    status, type, title = 400, "idempotency-key-missing", "Idempotency-Key header required"


def _idempotency_key() -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 255 or not key.isprintable():
        raise IdempotencyKeyMissing(
            "Send an 'Idempotency-Key' header (1 to 255 printable characters, a UUID say), "
            "new for each reply and the same when you retry one.")
    return key


def _user() -> StaffUser:
    user = current_api_user()
    assert user is not None  # @require let the request in
    found = db.session.get(StaffUser, user.id)
    assert found is not None
    return found


def _staff_ref(user: StaffUser | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.id, "email": user.email, "name": user.name}


def _assignment(ret: Return) -> dict[str, Any]:
    state = conversations.work_state(ret.id)
    return {"rma": ret.rma, "assignee": _staff_ref(work.assignee_of(ret.id)),
            "waiting_on": state.waiting_on if state else None,
            "waiting_since": state.waiting_since if state else None}


@blp.route("/returns/<rma>/conversation", methods=["GET"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.response(200, ConversationOut)
@require("conversation.read")
def get_conversation(rma: str) -> Any:
    """The return's conversation with the customer, its internal notes (staff only), whom
    it is assigned to and whom it waits on."""
    ret = get_return(rma)
    return {**_assignment(ret), "messages": conversations.messages_of(ret.id),
            "notes": conversations.notes_of(ret.id)}


@blp.route("/returns/<rma>/conversation/replies", methods=["POST"])
@blp.doc(security=BEARER, responses=PROBLEMS, parameters=[IDEMPOTENCY_KEY])
@blp.arguments(ReplyIn)
@blp.response(201, MessageOut, headers=REPLAYED)
@blp.alt_response(200, schema=MessageOut, description="Sent before with this key: the first "
                                                      "reply, nothing sent again")
@require("conversation.reply")
def reply(data: dict[str, Any], rma: str) -> Any:
    """Reply to the customer by email (or SMS when they opted in): sent once, after the
    commit; the return then waits on the customer."""
    key = _idempotency_key()
    message, replayed = conversations.send_agent_reply(
        get_return(rma), _user(), data["body"], channel=data["channel"], request_key=key)
    db.session.commit()  # then dumped by the response schema (one reload of the row)
    if replayed:
        return message, 200, {"Idempotent-Replayed": "true"}
    return message, 201


@blp.route("/returns/<rma>/conversation/notes", methods=["POST"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.arguments(NoteIn)
@blp.response(201, NoteOut)
@require("conversation.note")
def add_note(data: dict[str, Any], rma: str) -> Any:
    """An internal note: staff only, never shown or sent to the customer; colleagues it
    @mentions are emailed."""
    note = conversations.add_note(get_return(rma), _user(), data["body"])
    db.session.commit()
    return note, 201


def _assign(rma: str, to_user_id: int | None) -> Any:
    ret = get_return(rma)
    work.assign(ret, to_user_id, by=_user())
    shown = _assignment(ret)
    db.session.commit()
    return shown


@blp.route("/returns/<rma>/assignee", methods=["PUT"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.arguments(AssignIn)
@blp.response(200, AssignmentOut)
@require("return.assign")
def assign(data: dict[str, Any], rma: str) -> Any:
    """Assign the return to a colleague who works the queue, or to nobody (null)."""
    return _assign(rma, data["assignee_id"])


@blp.route("/returns/<rma>/claim", methods=["POST"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.response(200, AssignmentOut)
@require("return.assign")
def claim(rma: str) -> Any:
    """Assign the return to yourself."""
    return _assign(rma, _user().id)


@blp.route("/returns/<rma>/unassign", methods=["POST"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.response(200, AssignmentOut)
@require("return.assign")
def unassign(rma: str) -> Any:
    """Leave the return to nobody (the round robin gives it out again only when the
    customer writes)."""
    return _assign(rma, None)


@blp.route("/agents", methods=["GET"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.response(200, AvailabilityOut(many=True))
@require("return.assign")
def list_agents() -> Any:
    """Everyone who works the queue and whether they are away (skipped by the round robin)."""
    return [{**(_staff_ref(user) or {}), "away": away}
            for user, away in round_robin.availability()]


@blp.route("/agents/<int:user_id>/availability", methods=["PUT"])
@blp.doc(security=BEARER, responses=PROBLEMS)
@blp.arguments(AvailabilityIn)
@blp.response(200, AvailabilityOut)
@require("return.assign")
def set_availability(data: dict[str, Any], user_id: int) -> Any:
    """Mark yourself (or, as an admin, anyone) away or back; written to the audit trail."""
    by = _user()
    if not is_row_id(user_id) or db.session.get(StaffUser, user_id) is None:
        raise NotFound(f"No staff user {user_id}.")
    if not round_robin.may_change_availability(by, user_id):
        raise Forbidden("Only admins change a colleague's availability.")
    user = round_robin.set_away(user_id, data["away"], by=by)
    shown = {**(_staff_ref(user) or {}), "away": data["away"]}
    db.session.commit()
    return shown
