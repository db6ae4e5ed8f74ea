"""The catalog the store keeps us told of: products upserted whole, by the store's id.

A PUT says what the product is now: its variants by SKU (title, options, prices, on-hand
stock). Variants left out are kept, inactive, because exchanges may point at them; our own
`reserved` count is never touched by a PUT."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from returns_service.common.errors import NotFound, ValidationFailed
from returns_service.db import db
from returns_service.exchanges.models import Product, Variant

# The store's product ids: what fits in a URL path segment unescaped.
PRODUCT_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")


def upsert_product(product_id: str, data: dict[str, Any]) -> tuple[Product, bool]:
    """Create or replace product `product_id`. Returns (product, created)."""
    if not PRODUCT_ID.fullmatch(product_id):
        raise ValidationFailed({"product_id": [
            "1 to 100 letters, digits, dots, dashes, underscores or colons."]})
    product = _locked(product_id)
    created = product is None
    if product is None:
        try:
            with db.session.begin_nested():
                product = Product(product_id=product_id, title=data["title"])
                db.session.add(product)
                db.session.flush()
        except IntegrityError:  # the same product PUT concurrently: update that one
            product, created = _locked(product_id), False
            assert product is not None
    _apply(product, data)
    db.session.flush()
    return product, created


def _locked(product_id: str) -> Product | None:
    return db.session.scalar(
        select(Product).where(Product.product_id == product_id).with_for_update())


def _apply(product: Product, data: dict[str, Any]) -> None:
    product.title = data["title"]
    incoming = {v["sku"]: v for v in data["variants"]}
    taken = db.session.execute(
        select(Variant.sku, Product.product_id).join(Product)
        .where(Variant.sku.in_(incoming), Variant.product_pk != product.id)).all()
    if taken:
        raise ValidationFailed({"variants": [
            f"SKU {sku} belongs to product {owner}." for sku, owner in sorted(taken)]})
    existing = {v.sku: v for v in db.session.scalars(
        select(Variant).where(Variant.product_pk == product.id))}
    for variant in existing.values():
        variant.active = variant.sku in incoming
    for sku, fields in incoming.items():
        variant = existing.get(sku)
        if variant is None:
            variant = Variant(product_pk=product.id, sku=sku, reserved=0)
            db.session.add(variant)
        variant.title, variant.options = fields["title"], dict(fields.get("options") or {})
        variant.prices = {c.upper(): int(p) for c, p in fields["prices"].items()}
        variant.on_hand, variant.active = fields["on_hand"], True
        for size in SIZES:
            setattr(variant, size, fields.get(size))


SIZES = ("weight_oz", "length_in", "width_in", "height_in")  # one unit's, for return parcels


def get_product(product_id: str) -> Product:
    product = db.session.scalar(select(Product).where(Product.product_id == product_id))
    if product is None:
        raise NotFound(f"No product {product_id}.")
    return product


def product_dict(product: Product) -> dict[str, Any]:
    """The product as the API shows it: its active variants with their stock."""
    variants = db.session.scalars(select(Variant).where(
        Variant.product_pk == product.id, Variant.active.is_(True)).order_by(Variant.id))
    return {"product_id": product.product_id, "title": product.title,
            "variants": [{"sku": v.sku, "title": v.title, "options": v.options,
                          "prices": v.prices, "on_hand": v.on_hand, "reserved": v.reserved,
                          "available": v.available, **{s: getattr(v, s) for s in SIZES}}
                         for v in variants]}
