"""Store credit instead of a refund: the credit (the refund's amount plus the policy's bonus)
is issued in the same transaction that moves the return to credited, exactly once per return
(the credits ledger refuses a second issue for the same return)."""

from __future__ import annotations

from returns_service.common.money import refund_step
from returns_service.credits.services import issue_for_return
from returns_service.db import db
from returns_service.returns.models import Return
from returns_service.returns.services import current_policy, transition
from workflows.returns import Actor

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
