"""Marshmallow shapes of the store-credit API: a code's balance, a redemption, a reversal."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from returns_service.common.money import MAX_AMOUNT
from returns_service.credits.ledger import STATUSES


class CreditOut(Schema):
    code = fields.String(metadata={"example": "RS-7KQ4-M2XD-9PTN"})
    currency = fields.String(metadata={"example": "EUR"})
    balance = fields.Integer(metadata={"description": "What the code still holds, in minor "
                                                      "units of its currency"})
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={
        "description": "`active` (holds credit), `spent` (nothing left) or `expired`"})
    expires_at = fields.DateTime(allow_none=True, metadata={
        "description": "When the credit expires; null: never"})


class RedemptionIn(Schema):
    amount = fields.Integer(required=True, strict=True,
                            validate=validate.Range(min=1, max=MAX_AMOUNT),
                            metadata={"description": "Minor units of the code's currency"})
    order_reference = fields.String(required=True, validate=validate.Length(min=1, max=255),
                                    metadata={"description": "The store's order the credit "
                                                             "pays for"})
    currency = fields.String(load_default=None, validate=validate.Length(equal=3), metadata={
        "description": "Optional: refused (422) unless it is the code's currency"})


class RedemptionOut(Schema):
    id = fields.Integer(metadata={"description": "The redemption's id, to reverse it"})
    code = fields.String()
    amount = fields.Integer(metadata={"description": "What was taken off the code"})
    currency = fields.String()
    order_reference = fields.String()
    balance_after = fields.Integer(metadata={"description": "The code's balance right after "
                                                            "this redemption"})
    created_at = fields.DateTime()


class ReversalIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                           metadata={"description": "Why, e.g. \"order cancelled\""})


class ReversalOut(Schema):
    id = fields.Integer()
    redemption_id = fields.Integer()
    code = fields.String()
    amount = fields.Integer(metadata={"description": "What was put back on the code"})
    currency = fields.String()
    balance_after = fields.Integer(metadata={"description": "The code's balance right after "
                                                            "the reversal"})
    created_at = fields.DateTime()
