"""Marshmallow shapes for return requests, staff actions and what the API answers."""

from __future__ import annotations

from marshmallow import Schema, fields, validate
from webargs.fields import DelimitedList

from returns_service.returns.policy import ADJUSTMENT_KINDS, CONDITIONS, RESOLUTIONS

NOTE = validate.Length(max=2000)


class ReturnItemIn(Schema):
    sku = fields.String(required=True, validate=validate.Length(min=1, max=100))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=64))
    comment = fields.String(load_default=None, allow_none=True, validate=NOTE)


class ReturnIn(Schema):
    order_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    email = fields.Email(load_default=None, metadata={
        "description": "Required for customers; staff may omit it"})
    items = fields.List(fields.Nested(ReturnItemIn), required=True,
                        validate=validate.Length(min=1, max=100))
    channel = fields.String(load_default=None, validate=validate.OneOf(
        ["api", "phone", "email", "chat"]), metadata={"description": "Staff only"})
    resolution = fields.String(load_default="refund", validate=validate.OneOf(RESOLUTIONS),
                               metadata={"description": (
                                   "How the customer is made whole: refund to the original "
                                   "payment, or store credit (when the policy offers it)")})


class VersionedIn(Schema):
    expected_version = fields.Integer(load_default=None, strict=True, metadata={
        "description": "Version you acted on; 409 if the return changed since (or If-Match)"})
    note = fields.String(load_default=None, allow_none=True, validate=NOTE)


class RejectIn(VersionedIn):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=64))


class ResolutionIn(VersionedIn):
    resolution = fields.String(required=True, validate=validate.OneOf(RESOLUTIONS))


class AdjustmentIn(VersionedIn):
    kind = fields.String(required=True, validate=validate.OneOf(ADJUSTMENT_KINDS), metadata={
        "description": "goodwill adds to the payout, deduction takes from it"})
    amount = fields.Integer(required=True, strict=True, validate=validate.Range(min=1),
                            metadata={"description": "Minor units of the order's currency"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=64), metadata={
        "description": "A code from the policy's adjustment reasons"})


class ReceivedItemIn(Schema):
    sku = fields.String(required=True)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    condition = fields.String(required=True, validate=validate.OneOf(CONDITIONS))
    restock = fields.Boolean(load_default=None, allow_none=True)
    note = fields.String(load_default=None, allow_none=True, validate=NOTE)


class ReceiveIn(VersionedIn):
    items = fields.List(fields.Nested(ReceivedItemIn), required=True,
                        validate=validate.Length(min=1, max=100))


class ListQuery(Schema):
    status = DelimitedList(fields.String(), load_default=list)
    q = fields.String(load_default=None)
    channel = fields.String(load_default=None)
    reason = fields.String(load_default=None)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


class ReturnItemOut(Schema):
    sku = fields.String()
    name = fields.String()
    quantity = fields.Integer()
    unit_price = fields.Integer()
    reason = fields.String()
    comment = fields.String(allow_none=True)
    received_quantity = fields.Integer(allow_none=True)
    condition = fields.String(allow_none=True)
    restock = fields.Boolean(allow_none=True)


class BreakdownOut(Schema):
    items = fields.Integer()
    restocking_fee = fields.Integer()
    shipping = fields.Integer()
    adjustments = fields.Integer(metadata={"description": "Agents' goodwill less deductions"})
    total = fields.Integer()
    list_price = fields.Integer(metadata={"description": "Items at unit price x quantity"})
    discount = fields.Integer(metadata={"description": "Discounts on the items (taken off "
                                                       "list_price to give items)"})
    tax = fields.Integer(metadata={"description": "Tax refunded: added on top of the items' "
                                                  "prices, contained in them (VAT), and "
                                                  "shipping's"})
    tax_added = fields.Integer(metadata={"description": "Of tax, what was added on top of the "
                                                        "items' prices (part of items)"})


class CreditOfferOut(Schema):
    amount = fields.Integer(metadata={"description": "The refund's amount, as credit"})
    bonus = fields.Integer(metadata={"description": "The policy's bonus on top"})
    total = fields.Integer()


class RefundOut(Schema):
    id = fields.Integer()
    attempt = fields.Integer()
    amount = fields.Integer()
    currency = fields.String()
    status = fields.String()
    origin = fields.String()
    provider = fields.String(metadata={"description": "stripe, manual, or how a split part "
                                                     "went back: gift_card, store_credit, other"})
    provider_refund_id = fields.String(allow_none=True)
    reference = fields.String(allow_none=True)
    failure_reason = fields.String(allow_none=True)
    failure_message = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ShipmentOut(Schema):
    provider = fields.String(metadata={"description": "`easypost` (a prepaid label) or "
                                                      "`self_ship` (the customer sends it)"})
    status = fields.String(allow_none=True, metadata={"description": (
        "label_pending, label_ready, label_failed, in_transit, delivered, returned_to_sender, "
        "lost or voided; null with self_ship")})
    carrier = fields.String(allow_none=True)
    service = fields.String(allow_none=True)
    tracking_number = fields.String(allow_none=True)
    tracking_url = fields.String(allow_none=True, metadata={
        "description": "The carrier's tracking page, for the carriers the service knows"})
    est_delivery_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    first_scan_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    delivered_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    slip_url = fields.String(allow_none=True, metadata={"description": (
        "The printable return slip, while a parcel is to be sent. Like `status_url`, shown "
        "only to the customer who asked and to agents and admins")})
    label_url = fields.String(allow_none=True, metadata={
        "description": "The prepaid label once bought (same roles as `slip_url`)"})
    qr_code_url = fields.String(allow_none=True, metadata={"description": (
        "The label's QR code, where the carrier offers one (same roles as `slip_url`)")})


class ReturnOut(Schema):
    rma = fields.String()
    status = fields.String()
    version = fields.Integer()
    channel = fields.String()
    order_number = fields.String()
    email = fields.String()
    customer_name = fields.String()
    currency = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    status_changed_at = fields.DateTime()
    rejection_reason = fields.String(allow_none=True)
    needs_review = fields.Boolean()
    review_reason = fields.String(allow_none=True)
    items = fields.List(fields.Nested(ReturnItemOut))
    expected_refund = fields.Nested(BreakdownOut)
    refund = fields.Nested(BreakdownOut, allow_none=True)
    refunds = fields.List(fields.Nested(RefundOut))
    resolution = fields.String(metadata={"description": "refund or store_credit"})
    keep_item = fields.Boolean(metadata={
        "description": "The customer keeps the items: nothing is sent back"})
    store_credit = fields.Nested(CreditOfferOut, allow_none=True, metadata={
        "description": ("The credit issued (status credited), else what choosing store "
                        "credit would give now; null when the policy offers none")})
    allowed_actions = fields.List(fields.String())
    status_url = fields.String(metadata={"description": (
        "The customer's status page. It lets whoever holds it cancel the return, so it is "
        "shown only to the customer who asked and to agents and admins.")})
    shipment = fields.Nested(ShipmentOut, allow_none=True, metadata={"description": (
        "How the parcel comes back (label, tracking, slip): on a single return's answers, "
        "not in lists; null when no parcel is to be sent")})


class ReturnPageOut(Schema):
    items = fields.List(fields.Nested(ReturnOut))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer(metadata={"description": "Matching returns, counted up to 10000"})
    total_capped = fields.Boolean(metadata={
        "description": "True when more than `total` returns match (counting stops there)"})


class EventOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    trigger = fields.String(allow_none=True)
    actor_type = fields.String()
    actor_label = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    data = fields.Dict(allow_none=True)
    customer_visible = fields.Boolean()
    created_at = fields.DateTime()
