"""What refunds do when a parcel is received: price what arrived and start the refund, or
close the return when nothing in it qualifies. Connected to `return_received` by
`returns_service.refunds.init_app`; runs in the receiving transaction."""

from __future__ import annotations

from typing import Any

from returns_service.orders.services import lock_order_row
from returns_service.refunds.amounts import order_figures, remember_for_answer
from returns_service.refunds.breakdown import refund_breakdown
from returns_service.refunds.services import start_refund
from returns_service.returns.models import Return
from returns_service.returns.services import transition
from workflows.returns import Actor


def on_return_received(ret: Return, *, actor: Actor, **_: Any) -> None:
    """Store the refund breakdown on the return, then refund_pending or closed."""
    # The refund is capped by what other returns left refundable: lock the order. Its lines
    # are not read again (the items hold theirs; the figures sum them in SQL).
    lock_order_row(ret.order)
    # Read under the order's lock and leaving this return out, so nothing this transaction
    # does next changes them: the answer's estimate uses them too.
    figures = order_figures(ret.order, exclude_return_id=ret.id)
    remember_for_answer(ret, figures=figures)
    breakdown = refund_breakdown(ret, figures=figures)
    ret.refund_items_amount = breakdown.items_amount
    ret.restocking_fee_amount = breakdown.restocking_fee
    ret.refund_shipping_amount = breakdown.shipping_amount
    ret.refund_amount = breakdown.total
    if breakdown.total > 0:
        start_refund(ret, actor)
    else:
        transition(ret, "close", actor, note="Nothing in the parcel qualifies for a refund.")
