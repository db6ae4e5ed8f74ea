"""Marshmallow shapes for orders coming in from the store and going out to staff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from returns_service.common.clock import utcnow
from returns_service.common.money import MAX_AMOUNT, MAX_LINE_QUANTITY, is_currency

CHANNEL = validate.Length(min=1, max=64)
# An order's dates must be plausible: the return window and every deadline are counted from
# them, and a date near year 9999 would overflow that arithmetic. A little ahead of our clock
# is allowed, for the store's clock.
EARLIEST_ORDER_DATE = datetime(2000, 1, 1, tzinfo=UTC)
PLAUSIBLE_AHEAD = timedelta(days=2)
AMOUNT = validate.Range(min=0, max=MAX_AMOUNT)
EMAIL = validate.Length(max=254)


def plausible_date(value: datetime) -> bool:
    """From 2000 to a little ahead of now (the store's clock may run ahead of ours)."""
    return EARLIEST_ORDER_DATE <= value <= utcnow() + PLAUSIBLE_AHEAD


class PaymentIn(Schema):
    provider = fields.String(load_default="stripe", validate=validate.OneOf(["stripe"]))
    payment_intent = fields.String(required=True, validate=validate.Regexp(
        r"^pi_[A-Za-z0-9_]+$", error="Must be a Stripe PaymentIntent id (pi_…)."))


class OrderLineIn(Schema):
    sku = fields.String(required=True, validate=validate.Length(min=1, max=100))
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    quantity = fields.Integer(required=True, strict=True,
                              validate=validate.Range(min=1, max=MAX_LINE_QUANTITY))
    unit_price = fields.Integer(required=True, strict=True, validate=AMOUNT)
    final_sale = fields.Boolean(load_default=False)
    product_id = fields.String(load_default=None, allow_none=True,
                               validate=validate.Length(min=1, max=100))


class OrderIn(Schema):
    # Trimmed, as every lookup trims what the customer types: " A1001" is order A1001.
    number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    email = fields.Email(required=True, validate=EMAIL)
    customer_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    currency = fields.String(required=True)
    placed_at = fields.AwareDateTime(required=True, default_timezone=None)
    delivered_at = fields.AwareDateTime(load_default=None, allow_none=True)
    channel = fields.String(load_default="web", validate=CHANNEL)
    shipping_total = fields.Integer(load_default=0, strict=True, validate=AMOUNT)
    payment = fields.Nested(PaymentIn, load_default=None, allow_none=True)
    lines = fields.List(fields.Nested(OrderLineIn), required=True,
                        validate=validate.Length(min=1, max=500))

    @pre_load
    def _trim_number(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("number"), str):
            data = {**data, "number": data["number"].strip()}
        return data

    @validates("currency")
    def _currency(self, value: str, **_: Any) -> None:
        if not is_currency(value):
            raise ValidationError("Must be an ISO 4217 currency code, e.g. EUR.")

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        skus = [line["sku"] for line in data.get("lines", [])]
        if len(skus) != len(set(skus)):
            errors["lines"] = ["Each SKU may appear only once per order."]
        placed, delivered = data.get("placed_at"), data.get("delivered_at")
        for name, value in (("placed_at", placed), ("delivered_at", delivered)):
            if value is not None and not plausible_date(value):
                errors[name] = [f"Must be between {EARLIEST_ORDER_DATE:%Y-%m-%d} and "
                                f"{PLAUSIBLE_AHEAD.days} days from now."]
        if placed and delivered and delivered < placed and "placed_at" not in errors \
                and "delivered_at" not in errors:
            errors["delivered_at"] = ["Cannot be before placed_at."]
        total = data.get("shipping_total", 0) + sum(
            line["unit_price"] * line["quantity"] for line in data.get("lines", []))
        if total > MAX_AMOUNT:
            errors["lines"] = [f"The order's total may be at most {MAX_AMOUNT} minor units."]
        if errors:
            raise ValidationError(errors)


class OrderLineOut(Schema):
    sku = fields.String()
    name = fields.String()
    quantity = fields.Integer()
    unit_price = fields.Integer()
    final_sale = fields.Boolean()
    product_id = fields.String(allow_none=True)


class ReturnSummaryOut(Schema):
    rma = fields.String()
    status = fields.String()
    created_at = fields.DateTime()
    refund_amount = fields.Integer(allow_none=True)


class OrderOut(Schema):
    number = fields.String()
    email = fields.String()
    customer_name = fields.String()
    currency = fields.String()
    placed_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
    channel = fields.String()
    shipping_total = fields.Integer()
    total = fields.Integer()
    payment_intent = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(OrderLineOut))
    returns = fields.List(fields.Nested(ReturnSummaryOut))


class EligibilityQuery(Schema):
    email = fields.Email(required=True)


class LineEligibilityOut(Schema):
    sku = fields.String()
    name = fields.String()
    unit_price = fields.Integer()
    purchased = fields.Integer()
    returnable_quantity = fields.Integer()
    eligible = fields.Boolean()
    reason = fields.String(allow_none=True, metadata={"description": "Why not, for the customer"})


class ReasonOut(Schema):
    code = fields.String()
    label = fields.String()
    merchant_fault = fields.Boolean()


class EligibilityOut(Schema):
    order_number = fields.String()
    currency = fields.String()
    return_deadline = fields.DateTime()
    lines = fields.List(fields.Nested(LineEligibilityOut))
    reasons = fields.List(fields.Nested(ReasonOut))
