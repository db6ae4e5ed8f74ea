"""Settling a return: price what arrived (or, for keep-the-item, what the customer keeps) and
make the customer whole as they chose: start the refund, or issue store credit; close the
return when nothing qualifies. Connected to `return_received` and `return_approved` by
`returns_service.refunds.init_app`; runs in the transaction of that change."""

from __future__ import annotations

from typing import Any

from returns_service.orders.services import lock_order_row
from returns_service.refunds.amounts import order_figures, remember_for_answer
from returns_service.refunds.breakdown import refund_breakdown
from returns_service.refunds.credit import issue_store_credit
from returns_service.refunds.payouts import is_split, refund_split
from returns_service.refunds.services import start_refund
from returns_service.refunds.signals import exchanged_items, return_settling
from returns_service.returns.models import Return
from returns_service.returns.services import transition
from workflows.returns import Actor


def on_return_received(ret: Return, *, actor: Actor, **_: Any) -> None:
    """The parcel was opened: settle on what arrived."""
    settle(ret, actor)


def on_return_approved(ret: Return, *, actor: Actor, **_: Any) -> None:
    """A keep-the-item return is settled at approval: no parcel will come."""
    if ret.keep_item:
        settle(ret, actor, as_requested=True,
               nothing_left="Nothing is left to pay out for the items kept.")


def settle(ret: Return, actor: Actor, *, as_requested: bool = False,
           nothing_left: str | None = "Nothing in the parcel qualifies for a refund.",
           note: str | None = None) -> None:
    """Store the breakdown on the return, then refund_pending, credited or closed.

    `as_requested`: priced as asked for, nothing inspected (kept items, a parcel refunded on
    its first scan). `nothing_left`: the note closing a return with nothing to pay out;
    None leaves it as it is (a scanned parcel may still be received). `note`: for staff,
    on the refund's start."""
    # Exchanges order what replaces the lines that arrived; those lines are then left out of
    # the breakdown (refunds.breakdown asks which).
    return_settling.send(ret, actor=actor, kept=as_requested)
    # The payout is capped by what other returns left refundable: lock the order. Its lines
    # are not read again (the items hold theirs; the figures sum them in SQL).
    lock_order_row(ret.order)
    # Read under the order's lock and leaving this return out, so nothing this transaction
    # does next changes them: the answer's estimate uses them too.
    figures = order_figures(ret.order, exclude_return_id=ret.id)
    remember_for_answer(ret, figures=figures)
    breakdown = refund_breakdown(ret, figures=figures, estimate=as_requested)
    ret.refund_items_amount = breakdown.items_amount
    ret.restocking_fee_amount = breakdown.restocking_fee
    ret.refund_shipping_amount = breakdown.shipping_amount
    ret.refund_amount = breakdown.total
    ret.refund_discount_amount = breakdown.discount
    ret.refund_tax_amount = breakdown.tax + breakdown.tax_included + breakdown.shipping_tax
    ret.refund_tax_added = breakdown.tax
    ret.refund_tax_by_rate = breakdown.taxes or None
    if breakdown.total <= 0:
        if nothing_left is not None:
            why = nothing_left
            if breakdown.items_amount == 0 and exchanged_items(ret):
                why = "Exchanged: the new item is on its way."
            transition(ret, "close", actor, note=why)
    elif ret.resolution == "store_credit":
        issue_store_credit(ret, actor)
    elif is_split(ret.order):
        refund_split(ret, actor)
    else:
        start_refund(ret, actor, note=note)
