"""Store credit instead of a refund: the credit (the refund's amount plus the policy's bonus)
is issued in the same transaction that moves the return to credited, exactly once per return
(the credits ledger refuses a second issue for the same return)."""

from __future__ import annotations

from returns_service.common.errors import ValidationFailed
from returns_service.common.money import format_money, refund_step
from returns_service.credits.services import (
    balance,
    convert_to_refund_entry,
    credit_for_return,
    issue_for_return,
)
from returns_service.db import db
from returns_service.orders.services import lock_order
from returns_service.refunds.models import Refund
from returns_service.refunds.services import start_refund
from returns_service.returns.models import Return
from returns_service.returns.services import current_policy, lock_return, transition
from workflows.returns import Actor, InvalidTransition, allowed_triggers

_CREDIT_TRIGGER = {"received": "issue_credit", "approved": "credit_kept_item"}


def issue_store_credit(ret: Return, actor: Actor) -> None:
    """Credit `ret.refund_amount` plus its bonus to the customer's email, and move the
    return to credited. The caller holds the return's and the order's locks."""
    currency = ret.order.currency
    amount = ret.refund_amount or 0
    bonus = current_policy().store_credit.bonus(amount, refund_step(currency))
    ret.credit_bonus_amount = bonus
    code = issue_for_return(db.session, return_id=ret.id, email=ret.order.email,
                            currency=currency, amount=amount, bonus=bonus,
                            actor_type=actor.type, actor_id=actor.id,
                            actor_label=actor.label)
    transition(ret, _CREDIT_TRIGGER[ret.status], actor,
               data={"amount": amount, "bonus": bonus, "credit_code_id": code.id})


def store_credit_offer(ret: Return, payout: int) -> dict[str, int] | None:
    """The credit issued to a credited return, else what store credit would give for
    `payout` (None when the policy offers no store credit)."""
    if ret.status == "credited":
        amount, bonus = ret.refund_amount or 0, ret.credit_bonus_amount or 0
    else:
        policy = current_policy().store_credit
        if not policy.enabled:
            return None
        amount, bonus = payout, policy.bonus(payout, refund_step(ret.order.currency))
    return {"amount": amount, "bonus": bonus, "total": amount + bonus}


def convert_credit_to_refund(rma: str, actor: Actor, *, note: str | None = None,
                             expected_version: int | None = None) -> Refund:
    """An admin turns what is left of a return's store credit into a refund to the original
    payment (the caller checks the permission). The bonus is never paid out as money:
    redemptions spend it first, and what is left of it is forfeited. The code is closed (a
    `refund_conversion` entry takes its whole balance) in the same transaction that starts
    the refund, exactly once."""
    if not current_policy().store_credit.convertible_to_refund:
        raise ValidationFailed({"resolution": [
            "The return policy does not turn store credit back into refunds."]})
    ret = lock_return(rma, expected_version)
    if ret.status != "credited":
        raise InvalidTransition("convert_credit_to_refund", ret.status,
                                allowed_triggers(ret.status))
    code = credit_for_return(db.session, ret.id)
    if code is None:
        raise ValidationFailed({"resolution": ["This return has no store credit."]})
    lock_order(ret.order_id)
    left = balance(db.session, code.id)
    issued, bonus = ret.refund_amount or 0, ret.credit_bonus_amount or 0
    spent = issued + bonus - left
    cash = left - max(0, bonus - spent)
    cash -= cash % refund_step(ret.order.currency)
    if cash <= 0:
        raise ValidationFailed({"resolution": [
            "Nothing of the credit is left to refund: it has been spent."]})
    convert_to_refund_entry(db.session, code.code, amount=left, actor_type=actor.type,
                            actor_id=actor.id, actor_label=actor.label,
                            note=f"Refunded {format_money(cash, ret.order.currency)} "
                                 f"to the original payment for return {ret.rma}.",
                            idempotency_key=f"convert-{ret.rma}")
    ret.refund_amount = cash  # what the return is owed now, in money
    return start_refund(ret, actor, amount=cash, note=note)
