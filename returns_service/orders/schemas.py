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


class AddressIn(Schema):
    """A postal address, in the fields carriers (and EasyPost) use."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    company = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    street1 = fields.String(required=True, validate=validate.Length(min=1, max=200))
    street2 = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    city = fields.String(required=True, validate=validate.Length(min=1, max=100))
    state = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    zip = fields.String(required=True, validate=validate.Length(min=1, max=20))
    country = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Z]{2}$", error="Must be an ISO 3166 country code, e.g. US."))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))


PROVIDERS = ("stripe", "gift_card", "store_credit", "other")
RATE = validate.Regexp(r"^\d{1,3}(\.\d{1,4})?$", error="A percentage, e.g. 20 or 8.875.")


class TaxLineIn(Schema):
    rate = fields.String(required=True, validate=RATE,
                         metadata={"description": "Percent, as a string: \"20\", \"8.875\""})
    amount = fields.Integer(required=True, strict=True, validate=AMOUNT,
                            metadata={"description": "Minor units, for the whole line"})
    name = fields.String(load_default="", validate=validate.Length(max=64))
    included = fields.Boolean(load_default=False, metadata={
        "description": "True when the price already contains this tax (VAT)"})


class DiscountIn(Schema):
    code = fields.String(load_default="", validate=validate.Length(max=64))
    amount = fields.Integer(required=True, strict=True, validate=AMOUNT)


class PaymentsIn(Schema):
    provider = fields.String(required=True, validate=validate.OneOf(PROVIDERS))
    amount = fields.Integer(required=True, strict=True, validate=AMOUNT)
    payment_intent = fields.String(load_default=None, validate=validate.Regexp(
        r"^pi_[A-Za-z0-9_]+$", error="Must be a Stripe PaymentIntent id (pi_…)."))
    code = fields.String(load_default=None, validate=validate.Length(min=1, max=40),
                         metadata={"description": "store_credit: the credit code spent"})
    reference = fields.String(load_default=None, validate=validate.Length(max=255),
                              metadata={"description": "gift card number, cash receipt…"})

    @validates_schema
    def _by_provider(self, data: dict[str, Any], **_: Any) -> None:
        if data["provider"] == "stripe" and not data.get("payment_intent"):
            raise ValidationError({"payment_intent": ["A Stripe payment needs its "
                                                      "payment intent."]})
        if data["provider"] == "store_credit" and not data.get("code"):
            raise ValidationError({"code": ["A store-credit payment needs its credit code."]})


class OrderLineIn(Schema):
    sku = fields.String(required=True, validate=validate.Length(min=1, max=100))
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    quantity = fields.Integer(required=True, strict=True,
                              validate=validate.Range(min=1, max=MAX_LINE_QUANTITY))
    unit_price = fields.Integer(required=True, strict=True, validate=AMOUNT)
    final_sale = fields.Boolean(load_default=False)
    product_id = fields.String(load_default=None, allow_none=True,
                               validate=validate.Length(min=1, max=100))
    discount = fields.Integer(load_default=0, strict=True, validate=AMOUNT, metadata={
        "description": "Minor units of discount allocated to the whole line"})
    tax_lines = fields.List(fields.Nested(TaxLineIn), load_default=list,
                            validate=validate.Length(max=10))
    weight_oz = fields.Integer(load_default=None, allow_none=True, strict=True,
                               validate=validate.Range(min=1, max=2400), metadata={
                                   "description": "One unit's shipping weight in ounces "
                                                  "(return labels; default: the setting)"})
    length_in = fields.Integer(load_default=None, allow_none=True, strict=True,
                               validate=validate.Range(min=1, max=200),
                               metadata={"description": "One unit's length in inches"})
    width_in = fields.Integer(load_default=None, allow_none=True, strict=True,
                              validate=validate.Range(min=1, max=200),
                              metadata={"description": "One unit's width in inches"})
    height_in = fields.Integer(load_default=None, allow_none=True, strict=True,
                               validate=validate.Range(min=1, max=200),
                               metadata={"description": "One unit's height in inches"})

    @validates_schema
    def _discount(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("discount", 0) > data["unit_price"] * data["quantity"]:
            raise ValidationError({"discount": ["Cannot be more than unit_price x quantity."]})


class OrderIn(Schema):
    # Trimmed, as every lookup trims what the customer types: " A1001" is order A1001.
    number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    email = fields.Email(required=True, validate=EMAIL)
    customer_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    currency = fields.String(required=True)
    placed_at = fields.AwareDateTime(required=True, default_timezone=None)
    delivered_at = fields.AwareDateTime(load_default=None, allow_none=True)
    channel = fields.String(load_default="web", validate=CHANNEL)
    # The customer's language (BCP 47, "de" or "fr-BE"): customer pages and emails use it
    # when the service ships it.
    locale = fields.String(load_default=None, allow_none=True,
                           validate=validate.Regexp(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$"))
    shipping_total = fields.Integer(load_default=0, strict=True, validate=AMOUNT)
    shipping_tax = fields.Nested(TaxLineIn, load_default=None, allow_none=True)
    payment = fields.Nested(PaymentIn, load_default=None, allow_none=True)
    shipping_address = fields.Nested(AddressIn, load_default=None, allow_none=True, metadata={
        "description": "Where the order went: the sender of a prepaid return label"})
    discounts = fields.List(fields.Nested(DiscountIn), load_default=list,
                            validate=validate.Length(max=20))
    payments = fields.List(fields.Nested(PaymentsIn), load_default=None, allow_none=True,
                           validate=validate.Length(min=1, max=10))
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
        errors.update(_money_errors(data))
        if errors:
            raise ValidationError(errors)


def paid_total(data: dict[str, Any]) -> int:
    """What an imported order was paid in all: lines less their discounts (the order-level
    ones when no line carries one) plus the tax added on top, shipping with its tax."""
    lines = data.get("lines", [])
    discount = sum(line.get("discount", 0) for line in lines) or sum(
        d["amount"] for d in data.get("discounts") or [])
    taxes = [t for line in lines for t in line.get("tax_lines") or []]
    if data.get("shipping_tax"):
        taxes.append(data["shipping_tax"])
    return (sum(line["unit_price"] * line["quantity"] for line in lines) - discount
            + sum(t["amount"] for t in taxes if not t.get("included"))
            + data.get("shipping_total", 0))


def _money_errors(data: dict[str, Any]) -> dict[str, list[str]]:
    """Discounts within the lines' prices; payments (when given) adding up to what was paid,
    with one Stripe payment at most (refunds to the card go to that payment intent)."""
    errors: dict[str, list[str]] = {}
    lines = data.get("lines", [])
    line_discounts = sum(line.get("discount", 0) for line in lines)
    order_discounts = sum(d["amount"] for d in data.get("discounts") or [])
    if line_discounts and order_discounts and line_discounts != order_discounts:
        errors["discounts"] = [f"The lines carry {line_discounts} of discount, the order's "
                               f"discounts {order_discounts}: allocate all or none."]
    elif order_discounts > sum(line["unit_price"] * line["quantity"] for line in lines):
        errors["discounts"] = ["Cannot be more than the lines' prices."]
    payments = data.get("payments")
    if payments is None:
        return errors
    if data.get("payment"):
        errors["payment"] = ["Send `payments` or `payment`, not both."]
    if sum(1 for p in payments if p["provider"] == "stripe") > 1:
        errors["payments"] = ["At most one Stripe payment per order."]
    elif not errors:
        paid, total = sum(p["amount"] for p in payments), paid_total(data)
        if paid != total:
            errors["payments"] = [f"The payments add up to {paid}; the order's total (lines "
                                  f"less discounts, plus tax and shipping) is {total}."]
    return errors


class OrderLineOut(Schema):
    sku = fields.String()
    name = fields.String()
    quantity = fields.Integer()
    unit_price = fields.Integer()
    final_sale = fields.Boolean()
    discount = fields.Integer()
    tax_lines = fields.List(fields.Dict(), attribute="tax_lines_out")
    paid = fields.Integer(metadata={"description": "What was paid for the whole line"})
    product_id = fields.String(allow_none=True)
    weight_oz = fields.Integer(allow_none=True)
    length_in = fields.Integer(allow_none=True)
    width_in = fields.Integer(allow_none=True)
    height_in = fields.Integer(allow_none=True)


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
    locale = fields.String(allow_none=True)
    shipping_total = fields.Integer()
    total = fields.Integer()
    payment_intent = fields.String(allow_none=True)
    shipping_tax = fields.Dict(allow_none=True)
    discounts = fields.List(fields.Dict())
    payments = fields.List(fields.Dict(), metadata={
        "description": "How the order was paid (one Stripe payment for imports without "
                       "`payments`)"})
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
