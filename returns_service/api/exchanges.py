"""HTTP endpoints for exchanges: the store upserts its catalog, fetches the exchange orders it
must ship and marks them shipped; agents swap a returned line for another variant."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from returns_service.common.errors import NotFound
from returns_service.db import db, is_row_id
from returns_service.exchanges import catalog, services
from returns_service.exchanges.schemas import (
    ExchangeOrderOut,
    ExchangeOrderQuery,
    ProductIn,
    ProductOut,
    ShippedIn,
)
from returns_service.http.auth import require
from returns_service.http.openapi import BEARER, PROBLEMS
from returns_service.returns.services import get_return

products_blp = Blueprint("products", __name__, url_prefix="/api/v1/products",
                         description="The catalog: products and variants exchanges offer")
orders_blp = Blueprint("exchange_orders", __name__, url_prefix="/api/v1/exchange-orders",
                       description="New items to ship for exchanges")
exchanges_blp = Blueprint("exchanges", __name__, url_prefix="/api/v1/returns",
                          description="Exchanges of returned lines")
PRODUCT_ID = "<product_id>"


@products_blp.route(f"/{PRODUCT_ID}", methods=["PUT"])
@products_blp.doc(security=BEARER, responses=PROBLEMS)
@products_blp.arguments(ProductIn)
@products_blp.response(201, ProductOut, description="Created")
@products_blp.alt_response(200, schema=ProductOut, description="Updated")
@require("catalog.write")
def put_product(data: dict[str, Any], product_id: str) -> Any:
    """Create or replace a product with its variants (idempotent by the store's id).
    `on_hand` is your stock; the service keeps its reservations apart."""
    product, created = catalog.upsert_product(product_id, data)
    db.session.commit()
    return catalog.product_dict(product), 201 if created else 200


@products_blp.route(f"/{PRODUCT_ID}", methods=["GET"])
@products_blp.doc(security=BEARER, responses=PROBLEMS)
@products_blp.response(200, ProductOut)
@require("catalog.read")
def get_product(product_id: str) -> Any:
    """A product, its variants and their stock: on hand, reserved and available."""
    return catalog.product_dict(catalog.get_product(product_id))


@orders_blp.route("", methods=["GET"])
@orders_blp.doc(security=BEARER, responses=PROBLEMS)
@orders_blp.arguments(ExchangeOrderQuery, location="query")
@orders_blp.response(200, ExchangeOrderOut(many=True))
@require("exchange_orders.read")
def list_exchange_orders(query: dict[str, Any]) -> Any:
    """Exchange orders by status (`pending`: to ship), oldest first."""
    return [services.order_dict(o) for o in services.pending_orders(query["status"])]


@orders_blp.route("/<order_id>/shipped", methods=["POST"])
@orders_blp.doc(security=BEARER, responses=PROBLEMS)
@orders_blp.arguments(ShippedIn)
@orders_blp.response(200, ExchangeOrderOut)
@require("exchange_orders.ship")
def mark_shipped(data: dict[str, Any], order_id: str) -> Any:
    """Record that you shipped the exchange order: the customer is emailed the tracking
    number. The same call again changes nothing."""
    order = services.mark_shipped(_order_id(order_id), data["tracking_number"],
                                  data.get("carrier"))
    db.session.commit()
    return services.order_dict(order)


def _order_id(value: str) -> int:
    """The id in the path; anything that cannot be one is an order that does not exist."""
    if not value.isascii() or not value.isdigit() or not is_row_id(int(value)):
        raise NotFound(f"No exchange order {value[:40]}.")
    return int(value)


class ExchangeIn(Schema):
    sku = fields.String(required=True, validate=validate.Length(min=1, max=100),
                        metadata={"description": "The returned line's SKU"})
    to_sku = fields.String(required=True, validate=validate.Length(min=1, max=100),
                           metadata={"description": "The variant wanted instead"})


class ExchangeOut(Schema):
    from_sku = fields.String()
    to_sku = fields.String()
    quantity = fields.Integer()
    status = fields.String()
    currency = fields.String()
    original_value = fields.Integer()
    new_price = fields.Integer()
    difference = fields.Integer(metadata={"description": "Positive: the customer pays it"})
    instant = fields.Boolean(metadata={
        "description": "Instant exchange: sent at approval once a card is saved"})
    card_saved_at = fields.DateTime(allow_none=True)
    charge_due_at = fields.DateTime(allow_none=True, metadata={
        "description": "Instant exchange: the saved card is charged original_value after "
                       "this if the original has not arrived"})
    original_received_at = fields.DateTime(allow_none=True)
    charge_payment_intent = fields.String(allow_none=True, metadata={
        "description": "The payment intent that charged the card (charged_for_missing_item)"})


@exchanges_blp.route("/<rma>/exchanges", methods=["POST"])
@exchanges_blp.doc(security=BEARER, responses=PROBLEMS)
@exchanges_blp.arguments(ExchangeIn)
@exchanges_blp.response(201, ExchangeOut)
@require("exchange.request")
def request_exchange(data: dict[str, Any], rma: str) -> Any:
    """Swap a returned line for another variant, reserving its stock (409 when none is
    left)."""
    ret = get_return(rma)
    item = next((i for i in ret.items if i.order_line.sku == data["sku"]), None)
    if item is None:
        raise NotFound(f"Return {ret.rma} has no line {data['sku']}.")
    exchange = services.request_exchange(ret, item, data["to_sku"])
    db.session.commit()
    return exchange
