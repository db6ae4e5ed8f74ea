"""Exchange use cases: request one (reserving the stock), end it (releasing the stock), order
the new item when the original arrives, and ship it. Services flush; the caller commits."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from returns_service.common.clock import utcnow
from returns_service.common.errors import DomainError, NotFound, ValidationFailed
from returns_service.db import db
from returns_service.db.loaded import object_from_row, read_rows
from returns_service.exchanges import stock
from returns_service.exchanges.difference import refund_paid_difference
from returns_service.exchanges.models import Exchange, ExchangeOrder, Product, Variant
from returns_service.exchanges.valuation import difference
from returns_service.notifications.services import customer_subject, queue_email
from returns_service.returns.models import Return, ReturnItem, transaction_memo
from returns_service.returns.services import current_policy
from workflows import exchanges as wf

# returns.models.transaction_memo key: return id -> {item id: owed} (receivers.exchanged_items)
OWED_MEMO = "exchanges_owed"


def forget_owed() -> None:
    """An exchange changed: what refunds was told about exchanged lines is read again."""
    transaction_memo().pop(OWED_MEMO, None)


# A return in these statuses may still have a line swapped for another variant.
OPEN_RETURN = ("requested", "approved")


class OutOfStock(DomainError):
    status, type, title = 409, "out-of-stock", "Not enough of that variant in stock"


class ExchangeConflict(DomainError):
    status, type, title = 409, "exchange-conflict", "The line already has another exchange"


def options_for(ret: Return, item: ReturnItem) -> list[Variant]:
    """The variants `item` may be exchanged for, out-of-stock ones included (shown as such):
    active, priced in the order's currency, another SKU, of the same product when the policy
    says so, and not dearer when upgrades are not allowed."""
    policy = current_policy().exchanges
    if not policy.allows(item.reason):
        return []
    currency = ret.order.currency
    variants = _candidates(currency, item.order_line)
    if not policy.upgrades_allowed:
        variants = [v for v in variants
                    if difference(item, item.quantity, v.price_in(currency) or 0)[1] <= 0]
    return variants


def offer_for_line(order: Any, line: Any, *, upgrades: bool = False) -> list[dict[str, Any]]:
    """What the customer pages offer for an order line, before a reason is chosen: each
    variant with its price, stock and difference. Dearer variants only with `upgrades` (the
    policy allowing them and online payment configured)."""
    policy = current_policy().exchanges
    if not policy.enabled:
        return []
    upgrades = upgrades and policy.upgrades_allowed
    draft = ReturnItem(order_line=line, quantity=1, reason="")  # priced, never saved
    offer = []
    for variant in _candidates(order.currency, line):
        price = variant.price_in(order.currency) or 0
        diff = difference(draft, 1, price)[1]
        if diff <= 0 or upgrades:
            offer.append({"sku": variant.sku, "title": variant.title, "price": price,
                          "available": variant.available, "difference": diff})
    return offer


def draft_difference(order: Any, line: Any, quantity: int, sku: str, *,
                     upgrades: bool = False) -> int | None:
    """The difference of exchanging `quantity` of `line` for `sku`, before the return exists
    (None when `sku` is not offered for the line)."""
    offer = next((o for o in offer_for_line(order, line, upgrades=upgrades)
                  if o["sku"] == sku), None)
    if offer is None:
        return None
    draft = ReturnItem(order_line=line, quantity=quantity, reason="")  # priced, never saved
    return difference(draft, quantity, offer["price"])[1]


def _candidates(currency: str, line: Any) -> list[Variant]:
    policy = current_policy().exchanges
    if policy.same_product_only and line.product_id is None:
        return []
    query = select(Variant).join(Product).where(Variant.active.is_(True),
                                                 Variant.sku != line.sku)
    if policy.same_product_only:
        query = query.where(Product.product_id == line.product_id)
    return [v for v in db.session.scalars(query.order_by(Variant.id))
            if v.price_in(currency) is not None]


def request_exchange(ret: Return, item: ReturnItem, sku: str) -> Exchange:
    """Swap the returned `item` (of `ret`) for variant `sku`, holding its stock. The same
    request again answers the same exchange; another variant for a line already exchanged is
    a conflict."""
    if ret.status not in OPEN_RETURN:
        raise ValidationFailed({"status": [f"A {ret.status} return cannot be exchanged."]})
    existing = exchange_of_item(item.id)
    if existing is not None and existing.status not in (wf.Status.CANCELLED,
                                                        wf.Status.EXPIRED):
        if existing.to_sku == sku:
            return existing
        raise ExchangeConflict(f"{item.order_line.sku} is already exchanged for "
                               f"{existing.to_sku}; cancel that exchange first.")
    variant = next((v for v in options_for(ret, item) if v.sku == sku), None)
    if variant is None:
        raise ValidationFailed({"sku": [f"{item.order_line.sku} cannot be exchanged for {sku}."]})
    currency = ret.order.currency
    new_price = variant.price_in(currency) or 0
    value, diff = difference(item, item.quantity, new_price)
    try:
        with db.session.begin_nested():
            if existing is not None:  # an ended exchange of this line: make way for the new one
                db.session.delete(existing)
                db.session.flush()
            if not stock.reserve(variant.id, item.quantity):
                raise OutOfStock(f"{variant.title} ({sku}) is out of stock.", sku=sku,
                                 variant=variant.title)
            exchange = Exchange(return_id=ret.id, return_item_id=item.id, variant_id=variant.id,
                                from_sku=item.order_line.sku, to_sku=sku,
                                quantity=item.quantity, status=wf.Status.REQUESTED.value,
                                instant=instant_offered(),
                                currency=currency, original_value=value, new_price=new_price *
                                item.quantity, difference=diff)
            db.session.add(exchange)
            db.session.flush()
    except IntegrityError:  # the same line exchanged concurrently: the savepoint undid ours
        raced = exchange_of_item(item.id)
        if raced is not None and raced.to_sku == sku:
            return raced
        raise ExchangeConflict(f"{item.order_line.sku} was just exchanged.") from None
    if diff > 0:
        wf.fire(exchange, "ask_payment")
    db.session.flush()
    forget_owed()
    return exchange


def instant_offered() -> bool:
    """New exchanges are instant (exchanges.instant): the policy says so, and a card can be
    saved at Stripe."""
    return current_policy().exchanges.instant and bool(current_app.config.get("STRIPE_API_KEY"))


def exchange_of_item(item_id: int) -> Exchange | None:
    return db.session.scalar(select(Exchange).where(Exchange.return_item_id == item_id))


_EXCHANGES = Exchange.__table__
_OF_RETURN = (select(*_EXCHANGES.c).where(_EXCHANGES.c.return_id == bindparam("return_id"))
              .order_by(_EXCHANGES.c.id))  # built once: every receipt runs it


def exchanges_of(return_id: int) -> list[Exchange]:
    """The return's exchanges, oldest first, as the session's objects (db.loaded: a Core
    read, as most returns have none)."""
    session = db.session
    return [object_from_row(session, Exchange, row)
            for row in read_rows(session, _OF_RETURN, {"return_id": return_id})]


def end_exchange(exchange: Exchange, trigger: str) -> bool:
    """Cancel or expire an exchange still holding stock, releasing it. False when it had
    already moved on (ordered, shipped, ended): safe to call twice."""
    locked = db.session.scalar(select(Exchange).where(Exchange.id == exchange.id)
                               .with_for_update().execution_options(populate_existing=True))
    if locked is None or locked.status not in wf.HOLDS_STOCK:
        return False
    wf.fire(locked, trigger)
    stock.release(locked.variant_id, locked.quantity)
    refund_paid_difference(locked)  # a paid difference goes back, once
    db.session.flush()
    forget_owed()
    return True


def order_exchange(exchange: Exchange) -> ExchangeOrder | None:
    """The original arrived: create the exchange order, once (unique per exchange)."""
    locked = db.session.scalar(select(Exchange).where(Exchange.id == exchange.id)
                               .with_for_update().execution_options(populate_existing=True))
    if locked is None or locked.status != wf.Status.REQUESTED:
        return locked.order if locked is not None else None
    wf.fire(locked, "order")
    order = ExchangeOrder(exchange_id=locked.id, sku=locked.to_sku, quantity=locked.quantity,
                          status="pending")
    db.session.add(order)
    db.session.flush()
    return order


def pending_orders(status: str = "pending") -> list[ExchangeOrder]:
    return list(db.session.scalars(select(ExchangeOrder).where(ExchangeOrder.status == status)
                                   .order_by(ExchangeOrder.id)))


def mark_shipped(order_id: int, tracking_number: str, carrier: str | None) -> ExchangeOrder:
    """The store shipped the exchange order. The same tracking number again is a no-op;
    another one for an order already shipped is refused."""
    order = db.session.scalar(select(ExchangeOrder).where(ExchangeOrder.id == order_id)
                              .with_for_update())
    if order is None:
        raise NotFound(f"No exchange order {order_id}.")
    if order.status == "shipped":
        if order.tracking_number != tracking_number:
            raise ValidationFailed({"tracking_number": [
                f"Already shipped with tracking number {order.tracking_number}."]})
        return order
    order.status, order.shipped_at = "shipped", utcnow()
    order.tracking_number, order.carrier = tracking_number, carrier
    exchange = order.exchange
    wf.fire(exchange, "ship")
    stock.ship(exchange.variant_id, order.quantity)
    _email_shipped(order)
    db.session.flush()
    return order


def _email_shipped(order: ExchangeOrder) -> None:
    """Tell the customer their new item is on its way (queued once per exchange order)."""
    exchange = order.exchange
    ret = db.session.get(Return, exchange.return_id)
    name = ret.order.customer_name.strip()
    context = {"rma": ret.rma, "first_name": name.split()[0] if name else "there",
               "sku": order.sku, "title": exchange.variant.title, "quantity": order.quantity,
               "from_sku": exchange.from_sku, "tracking_number": order.tracking_number,
               "carrier": order.carrier}
    # With the return: the email is on its timeline, like the return's own emails.
    queue_email(ret.order.email, "exchange_shipped", context,
                key=f"notify:{ret.rma}:exchange_shipped:{order.id}",
                subject=customer_subject(ret, "exchange_shipped"), ret=ret)


def order_dict(order: ExchangeOrder) -> dict[str, Any]:
    exchange = order.exchange
    ret = db.session.get(Return, exchange.return_id)
    return {"id": order.id, "rma": ret.rma, "order_number": ret.order.number,
            "email": ret.order.email, "customer_name": ret.order.customer_name,
            "sku": order.sku, "quantity": order.quantity, "exchanged_from": exchange.from_sku,
            "status": order.status, "tracking_number": order.tracking_number,
            "carrier": order.carrier, "created_at": order.created_at,
            "shipped_at": order.shipped_at}
