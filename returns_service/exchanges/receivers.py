"""How exchanges follow their return, by signal (connected in `exchanges.init_app`): the
return's settlement orders the new items, a rejected, cancelled or expired return ends its
exchanges (releasing their stock), refunds learn which lines not to refund, and shipping
learns the catalog's weights and sizes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from returns_service.db import db
from returns_service.db.loaded import read_rows
from returns_service.exchanges import instant, services
from returns_service.exchanges.catalog import SIZES
from returns_service.exchanges.models import Exchange, Variant
from returns_service.exchanges.signals import exchange_ordered
from returns_service.returns.models import Return, transaction_memo
from workflows import exchanges as wf

# The return's status -> the trigger that ends its exchanges still holding stock.
ENDING = {"rejected": "cancel", "cancelled": "cancel", "expired": "expire"}
LIVE = ("requested", "awaiting_payment", "ordered", "shipped")


def on_return_settling(ret: Return, *, kept: bool, **_: Any) -> None:
    """The parcel was received: order the new item of each exchanged line that arrived in
    full; an exchange still unpaid, or whose line did not arrive, ends (the line is then
    priced for a refund like any other)."""
    items = {item.id: item for item in ret.items}
    exchanges = services.exchanges_of(ret.id)
    if not exchanges:  # what refunds asks next (exchanged_items) is known: none
        transaction_memo().setdefault(services.OWED_MEMO, {})[ret.id] = {}
    for exchange in exchanges:
        item = items.get(exchange.return_item_id)
        arrived = (not kept and item is not None
                   and (item.received_quantity or 0) >= exchange.quantity)
        if exchange.status not in wf.HOLDS_STOCK:
            if arrived and exchange.status in (wf.Status.ORDERED, wf.Status.SHIPPED):
                instant.note_received(exchange)  # sent ahead: the saved card is not used
            continue
        if exchange.status == wf.Status.REQUESTED and arrived:
            order = services.order_exchange(exchange)
            if order is not None:
                exchange_ordered.send(exchange, order=order, ret=ret)
        else:
            services.end_exchange(exchange, "cancel")


def on_status_changed(ret: Return, event: Any = None, **_: Any) -> None:
    if event is not None and event.from_status is None:
        # A return just requested has no exchange yet (one is asked for with its id, and
        # asking forgets this): its refund figures need no query to learn so.
        transaction_memo().setdefault(services.OWED_MEMO, {})[ret.id] = {}
        return
    if ret.status in instant.APPROVED:  # instant exchanges with a saved card: order now
        if not exchanged_items(ret):
            return  # no live exchange (read once: refunds ask the same next)
        for exchange in services.exchanges_of(ret.id):
            instant.order_instant(exchange, ret)
        return
    trigger = ENDING.get(ret.status)
    if trigger is None:
        return
    for exchange in services.exchanges_of(ret.id):
        services.end_exchange(exchange, trigger)


_EXCHANGES = Exchange.__table__
# Built once: every approval and receipt runs one (a list page, the other).
_LIVE = select(_EXCHANGES.c.return_id, _EXCHANGES.c.return_item_id,
               _EXCHANGES.c.difference).where(_EXCHANGES.c.status.in_(LIVE))
_LIVE_OF_ONE = _LIVE.where(_EXCHANGES.c.return_id == bindparam("return_id"))
_LIVE_OF_MANY = _LIVE.where(_EXCHANGES.c.return_id.in_(bindparam("return_ids",
                                                                 expanding=True)))


def exchanged_items(ret: Return) -> dict[int, int]:
    """The return's items replaced by a live exchange, with what a cheaper variant leaves
    owed to the customer (refunded, or credited, with the return).

    Priced for every return a page shows: the exchanges of all the returns this session has
    loaded are read in one query, remembered for the transaction (a change to an exchange
    forgets them, see services.forget_owed)."""
    memo = transaction_memo().setdefault(services.OWED_MEMO, {})
    if ret.id not in memo:
        ids = {ret.id} | {obj.id for obj in list(db.session.identity_map.values())
                          if isinstance(obj, Return) and obj.id is not None}
        ids -= memo.keys()
        for return_id in ids:
            memo[return_id] = {}
        statement, params = ((_LIVE_OF_ONE, {"return_id": ret.id}) if len(ids) == 1
                             else (_LIVE_OF_MANY, {"return_ids": sorted(ids)}))
        for return_id, item_id, difference in read_rows(db.session, statement, params):
            memo[return_id][item_id] = max(0, -difference)
    return dict(memo[ret.id])


def parcel_sizes(ret: Return, **_: Any) -> dict[str, dict[str, int | None]]:
    """The catalog's weight and size of one unit of each SKU of the return (for its label)."""
    skus = sorted({item.order_line.sku for item in ret.items})
    return {v.sku: {size: getattr(v, size) for size in SIZES}
            for v in db.session.scalars(select(Variant).where(Variant.sku.in_(skus)))}
