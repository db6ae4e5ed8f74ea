"""Marshmallow shapes for staff refund actions."""

from __future__ import annotations

from marshmallow import fields, validate

from returns_service.returns.schemas import NOTE, VersionedIn


class RetryRefundIn(VersionedIn):
    """Retry a failed refund (a new attempt with a new idempotency key)."""


class ManualRefundIn(VersionedIn):
    amount = fields.Integer(required=True, strict=True, validate=validate.Range(min=1),
                            metadata={"description": "Minor units of the order's currency"})
    reference = fields.String(required=True, validate=validate.Length(min=1, max=255),
                              metadata={"description": "Bank transfer, voucher or receipt ref"})
    note = fields.String(load_default=None, allow_none=True, validate=NOTE)
    over_refund_reason = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=500),
        metadata={"description": "Admins only: why more than the return is still owed was "
                                 "paid back (recorded in the return's staff-only trail)"})
