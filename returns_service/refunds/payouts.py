"""A refund paid back the ways the order was paid (an order with `payments`): the return's
amount is split by the policy's `refund_split` (refunds.split) and each part goes back its
own way, in the settlement's transaction, exactly once:

- the Stripe part: today's refund row, idempotency key and outbox job (services.start_refund);
- a gift-card part: store credit (a code issued for the return, no bonus);
- a store-credit part: back onto the code the order was paid with (`refund_to_credit`);
- an `other` part: recorded as a manual refund still to make, and flagged for staff.

Each part other than Stripe's is a refund row of origin `split` (unique idempotency key
`split-<rma>-<payment>`), so it counts against the order and the return as any refund does,
and is noted in the return's staff trail. The parts sum to the return's amount."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from returns_service.common.clock import utcnow
from returns_service.common.errors import ValidationFailed
from returns_service.common.money import format_money, refund_step
from returns_service.credits.errors import CreditNotFound
from returns_service.credits.services import issue_for_return, refund_to_code
from returns_service.db import db
from returns_service.orders.models import Order
from returns_service.refunds.models import LIVE_REFUND_STATUSES, Refund
from returns_service.refunds.services import insert_refund, refund_trigger, start_refund
from returns_service.refunds.split import Payment, split_refund
from returns_service.returns.models import Return
from returns_service.returns.review import flag_for_review, note_for_staff
from returns_service.returns.services import current_policy, transition
from returns_service.returns.writes import save
from workflows.returns import Actor

SPLIT = "split"


def is_split(order: Order) -> bool:
    """Paid some other way than (at most) one Stripe payment: the parts are shared out."""
    return order.payments is not None and any(
        p["provider"] != "stripe" for p in order.payments)


def payment_key(payment: dict[str, Any]) -> str:
    """What names a payment on its refund rows: the credit code, gift card or reference."""
    return str(payment.get("code") or payment.get("reference") or "")[:255]


def _refunded_to(order: Order) -> list[int]:
    """Per payment of the order, what was refunded to it already (live refunds)."""
    live = Refund.status.in_(LIVE_REFUND_STATUSES)
    same = Refund.currency == order.currency
    by_way = dict(((provider, reference), int(total)) for provider, reference, total in
                  db.session.execute(
                      select(Refund.provider, Refund.reference, func.sum(Refund.amount))
                      .join(Return, Return.id == Refund.return_id)
                      .where(Return.order_id == order.id, Refund.origin == SPLIT, live, same)
                      .group_by(Refund.provider, Refund.reference)))
    on_card = 0
    if order.payment_intent:
        on_card = int(db.session.scalar(select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.payment_intent == order.payment_intent, Refund.origin != SPLIT, live,
            same)) or 0)
    return [on_card if p["provider"] == "stripe"
            else by_way.get((p["provider"], payment_key(p) or None), 0)
            for p in order.payments or []]


def plan(ret: Return) -> list[int]:
    """The return's amount shared out over its order's payments (one part per payment)."""
    order = ret.order
    payments = [Payment(p["provider"], int(p["amount"]), max(0, int(p["amount"]) - done))
                for p, done in zip(order.payments or [], _refunded_to(order), strict=True)]
    amount = ret.refund_amount or 0
    try:
        return split_refund(amount, payments, current_policy().refund_split,
                            refund_step(order.currency))
    except ValueError:
        # Refunded outside the service beyond what the payments show: share out by what
        # they paid, and ask a person to check.
        flag_for_review(ret, "The order's payments show less left to refund than this return "
                        "is owed; the refund was shared out by what each payment paid. Check "
                        "the payments.", Actor("system", None, "system"))
        full = [Payment(p.provider, p.paid, p.paid) for p in payments]
        return split_refund(amount, full, current_policy().refund_split,
                            refund_step(order.currency))


def refund_split(ret: Return, actor: Actor) -> list[int]:
    """Pay the return back over its order's payments; the caller holds the return's and the
    order's locks (settlement). Returns the parts, one per payment."""
    order = ret.order
    parts = plan(ret)
    stripe = sum(part for part, p in zip(parts, order.payments or [], strict=True)
                 if p["provider"] == "stripe")
    attempt = 1
    if stripe:
        attempt = start_refund(ret, actor, amount=stripe).attempt
    else:
        transition(ret, refund_trigger(ret), actor,
                   data={"amount": ret.refund_amount, "parts": parts})
    owed_by_hand = False
    for index, (part, payment) in enumerate(zip(parts, order.payments or [], strict=True)):
        if part <= 0 or payment["provider"] == "stripe":
            continue
        owed_by_hand |= payment["provider"] == "other"
        pay_part(ret, actor, index=index, payment=payment, amount=part, attempt=attempt)
    if not stripe and not owed_by_hand:
        transition(ret, "refund_succeeded", actor, data={"amount": ret.refund_amount})
    else:
        save(ret)  # the parts' notes (and a flag): no status change writes them
    return parts


def _credit_back(ret: Return, actor: Actor, code: str, amount: int) -> bool:
    """The part back onto the code the order was paid with; False when that code cannot
    take it (not found, another currency): a person then settles it by hand."""
    try:
        with db.session.begin_nested():
            refund_to_code(db.session, code, amount=amount, currency=ret.order.currency,
                           idempotency_key=f"return-{ret.rma}", actor_type=actor.type,
                           actor_id=actor.id, actor_label=actor.label,
                           note=f"Part of the refund of return {ret.rma}.")
    except (CreditNotFound, ValidationFailed):
        return False
    return True


def pay_part(ret: Return, actor: Actor, *, index: int, payment: dict[str, Any], amount: int,
             attempt: int) -> Refund:
    """One part other than Stripe's, once: a second call answers the first part's row."""
    key = f"split-{ret.rma}-{index + 1}"
    existing = db.session.scalar(select(Refund).where(Refund.idempotency_key == key))
    if existing is not None:
        return existing
    currency, provider = ret.order.currency, payment["provider"]
    reference, status = payment_key(payment) or None, "succeeded"
    money = format_money(amount, currency)
    if provider == "gift_card":
        code = issue_for_return(db.session, return_id=ret.id, email=ret.order.email,
                                currency=currency, amount=amount, bonus=0,
                                actor_type=actor.type, actor_id=actor.id,
                                actor_label=actor.label)
        note = f"{money} of the refund issued as store credit {code.code} (paid by gift card)."
    elif provider == "store_credit" and _credit_back(ret, actor, payment["code"], amount):
        note = f"{money} of the refund paid back onto store credit {payment['code']}."
    else:
        status = "pending"
        note = (f"{money} of the refund goes back to a payment made outside Stripe "
                f"({reference or 'no reference'}): pay it by hand.")
        if provider == "store_credit":
            note = (f"{money} of the refund could not go back onto store credit "
                    f"{reference} (unknown code, or another currency): pay it by hand.")
        flag_for_review(ret, note, actor)
    refund = insert_refund(ret, return_id=ret.id, attempt=attempt, amount=amount,
                           currency=currency, status=status, origin=SPLIT, provider=provider,
                           reference=reference, idempotency_key=key,
                           succeeded_at=utcnow() if status == "succeeded" else None)
    note_for_staff(ret, note, actor, kind="refund",
                   data={"refund_id": refund.id, "provider": provider, "amount": amount,
                         "status": status})
    return refund
