"""Marshmallow shapes of the webhook endpoints API: endpoints in and out, the delivery log."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from returns_service.integrations.events import EVENT_TYPES

EVENT_TYPE_HELP = ("Event types to receive, or [\"*\"] for all: "
                   + ", ".join(EVENT_TYPES) + ".")


class EndpointIn(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    description = fields.String(load_default="", validate=validate.Length(max=500))
    event_types = fields.List(fields.String(validate=validate.Length(max=64)), required=True,
                              validate=validate.Length(min=1, max=50),
                              metadata={"description": EVENT_TYPE_HELP})
    enabled = fields.Boolean(load_default=True)


class EndpointPatch(Schema):
    url = fields.String(validate=validate.Length(min=1, max=2000))
    description = fields.String(validate=validate.Length(max=500))
    event_types = fields.List(fields.String(validate=validate.Length(max=64)),
                              validate=validate.Length(min=1, max=50),
                              metadata={"description": EVENT_TYPE_HELP})
    enabled = fields.Boolean()


class EndpointOut(Schema):
    id = fields.Integer()
    url = fields.String()
    description = fields.String()
    event_types = fields.List(fields.String())
    enabled = fields.Boolean()
    disabled_reason = fields.String(allow_none=True)
    failing_since = fields.DateTime(allow_none=True)
    previous_secret_expires_at = fields.DateTime(
        allow_none=True, metadata={"description": "Until then, both secrets' signatures are "
                                   "sent (after a rotation)."})
    created_at = fields.DateTime()


class EndpointWithSecretOut(EndpointOut):
    secret = fields.String(metadata={"description": "The signing secret (whsec_…): shown "
                                     "only in this answer. Keep it in the receiver."})


class DeliveryOut(Schema):
    id = fields.Integer()
    endpoint_id = fields.Integer()
    sequence = fields.Integer()
    message_id = fields.String(metadata={"description": "The webhook-id header."})
    event_type = fields.String()
    status = fields.String(metadata={"description": "pending, delivered or failed"})
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    last_attempt_at = fields.DateTime(allow_none=True)
    response_status = fields.Integer(allow_none=True)
    response_body = fields.String(allow_none=True,
                                  metadata={"description": "The first 1,000 characters."})
    latency_ms = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
    payload = fields.Dict()


class DeliveryListOut(Schema):
    items = fields.List(fields.Nested(DeliveryOut))


class EndpointListOut(Schema):
    items = fields.List(fields.Nested(EndpointOut))
