"""Marshmallow shapes of the catalog API and of exchange orders."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from returns_service.common.money import MAX_AMOUNT, is_currency

MAX_STOCK = 10_000_000


class VariantIn(Schema):
    sku = fields.String(required=True, validate=validate.Length(min=1, max=100))
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    options = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=40)),
                          values=fields.String(validate=validate.Length(min=1, max=100)),
                          load_default=dict, validate=validate.Length(max=10),
                          metadata={"example": {"size": "L", "colour": "navy"}})
    prices = fields.Dict(keys=fields.String(), values=fields.Integer(
        strict=True, validate=validate.Range(min=0, max=MAX_AMOUNT)), required=True,
        validate=validate.Length(min=1, max=20),
        metadata={"description": "Minor units per ISO 4217 currency", "example": {"EUR": 2500}})
    on_hand = fields.Integer(required=True, strict=True,
                             validate=validate.Range(min=0, max=MAX_STOCK))
    weight_oz = fields.Integer(load_default=None, allow_none=True, strict=True,
                               validate=validate.Range(min=1, max=2400), metadata={
                                   "description": "One unit's shipping weight in ounces "
                                                  "(return labels)"})
    length_in = fields.Integer(load_default=None, allow_none=True, strict=True,
                               validate=validate.Range(min=1, max=200))
    width_in = fields.Integer(load_default=None, allow_none=True, strict=True,
                              validate=validate.Range(min=1, max=200))
    height_in = fields.Integer(load_default=None, allow_none=True, strict=True,
                               validate=validate.Range(min=1, max=200))

    @validates_schema
    def _currencies(self, data: dict[str, Any], **_: Any) -> None:
        wrong = sorted(c for c in data.get("prices", {}) if not is_currency(c))
        if wrong:
            raise ValidationError({"prices": [f"Not ISO 4217 currency codes: {wrong}."]})


class ProductIn(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    variants = fields.List(fields.Nested(VariantIn), required=True,
                           validate=validate.Length(min=1, max=200))

    @validates_schema
    def _unique_skus(self, data: dict[str, Any], **_: Any) -> None:
        skus = [v["sku"] for v in data.get("variants", [])]
        if len(skus) != len(set(skus)):
            raise ValidationError({"variants": ["Each SKU may appear only once."]})


class VariantOut(Schema):
    sku = fields.String()
    title = fields.String()
    options = fields.Dict()
    prices = fields.Dict()
    on_hand = fields.Integer()
    reserved = fields.Integer(metadata={"description": "Held for exchanges not yet shipped"})
    available = fields.Integer(metadata={"description": "on_hand - reserved"})
    weight_oz = fields.Integer(allow_none=True)
    length_in = fields.Integer(allow_none=True)
    width_in = fields.Integer(allow_none=True)
    height_in = fields.Integer(allow_none=True)


class ProductOut(Schema):
    product_id = fields.String()
    title = fields.String()
    variants = fields.List(fields.Nested(VariantOut))


class ExchangeOrderQuery(Schema):
    status = fields.String(load_default="pending",
                           validate=validate.OneOf(["pending", "shipped"]))


class ExchangeOrderOut(Schema):
    id = fields.Integer()
    rma = fields.String()
    order_number = fields.String()
    email = fields.String()
    customer_name = fields.String()
    sku = fields.String()
    quantity = fields.Integer()
    exchanged_from = fields.String()
    status = fields.String()
    tracking_number = fields.String(allow_none=True)
    carrier = fields.String(allow_none=True)
    created_at = fields.DateTime()
    shipped_at = fields.DateTime(allow_none=True)


class ShippedIn(Schema):
    tracking_number = fields.String(required=True, validate=validate.Length(min=1, max=100))
    carrier = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(min=1, max=64))
