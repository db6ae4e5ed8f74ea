"""Marshmallow shapes of the conversation API: a return's conversation (messages, internal
notes, assignment), a reply, a note, an assignment, an agent's availability."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from returns_service.conversations.services import MAX_BODY


class StaffRefOut(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()


class MessageOut(Schema):
    id = fields.Integer()
    channel = fields.String(metadata={"description": "`email`, `sms` or `web` (status page)"})
    direction = fields.String(metadata={"description": "`inbound` (from the customer) or "
                                                       "`outbound` (an agent's reply)"})
    author_type = fields.String(metadata={"description": "`customer` or `staff`"})
    author_id = fields.Integer(allow_none=True)
    author_label = fields.String()
    body = fields.String()
    attachments = fields.List(fields.Dict(), allow_none=True, metadata={
        "description": "Name, type and size of what came attached"})
    created_at = fields.DateTime()


class NoteOut(Schema):
    id = fields.Integer()
    author_id = fields.Integer(allow_none=True)
    author_label = fields.String()
    body = fields.String()
    mentions = fields.List(fields.Integer(), allow_none=True, metadata={
        "description": "Staff user ids the note @mentions (they were emailed)"})
    created_at = fields.DateTime()


class AssignmentOut(Schema):
    rma = fields.String()
    assignee = fields.Nested(StaffRefOut, allow_none=True)
    waiting_on = fields.String(allow_none=True, metadata={
        "description": "`us` (the customer wrote last), `customer` (an agent replied last) "
                       "or null"})
    waiting_since = fields.DateTime(allow_none=True)


class ConversationOut(AssignmentOut):
    messages = fields.List(fields.Nested(MessageOut), metadata={
        "description": "Everything the customer and the agents wrote, oldest first"})
    notes = fields.List(fields.Nested(NoteOut), metadata={
        "description": "Internal notes, oldest first: staff only, never sent to the customer"})


class ReplyIn(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=MAX_BODY))
    channel = fields.String(load_default="email", validate=validate.OneOf(("email", "sms")),
                            metadata={"description": "`sms` needs the customer's opt-in"})


class NoteIn(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=MAX_BODY),
                         metadata={"description": "`@jane` or `@jane@shop.example` emails "
                                                  "that colleague"})


class AssignIn(Schema):
    assignee_id = fields.Integer(required=True, allow_none=True, strict=True, metadata={
        "description": "A staff user who works the queue; null unassigns"})


class AvailabilityIn(Schema):
    away = fields.Boolean(required=True, metadata={
        "description": "true: skipped by the round robin; false: back in turn"})


class AvailabilityOut(StaffRefOut):
    away = fields.Boolean()
