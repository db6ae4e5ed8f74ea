"""What a refund's outcome does, shared by the refund job, the poll and Stripe's webhooks:
statuses only move forward and final ones never change; Stripe's answer is checked against
what we asked; a refund made in the Stripe dashboard settles the return only when it covers
it. Anything surprising flags the return for a person instead of moving money. The caller
holds the return's lock (`lock_with_return`) and commits."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from returns_service.common import metrics
from returns_service.common.clock import utcnow
from returns_service.common.money import format_money
from returns_service.db import db
from returns_service.db.loaded import object_from_row, read_rows
from returns_service.payments.stripe import ProviderRefund
from returns_service.refunds.amounts import settled_on_return
from returns_service.refunds.models import Refund
from returns_service.refunds.signals import refund_outcome
from returns_service.returns.models import Return
from returns_service.returns.review import flag_for_review, note_for_staff
from returns_service.returns.services import lock_return_by_id, transition
from workflows.returns import Actor

# Outcomes only move forward: a late "pending" never undoes "requires_action".
STATUS_RANK = {"pending": 0, "requires_action": 1, "failed": 2, "canceled": 2, "succeeded": 3}
FINAL_STATUSES = frozenset({"succeeded", "failed", "canceled"})
STRIPE_ACTOR = Actor("stripe", None, "stripe")
PENDING_STATUSES = ("pending", "requires_action")


def _covered(ret: Return) -> bool:
    return settled_on_return(ret) >= (ret.refund_amount or 0)


def lock_with_return(refund: Refund) -> Return | None:
    """Row-lock a refund for change, its return first (the same order on every path that
    records an outcome, so two of them cannot deadlock), and re-read both; the return, or
    None for a refund no return matched."""
    ret = lock_return_by_id(refund.return_id) if refund.return_id else None
    db.session.refresh(refund, with_for_update=True)
    return ret


# Built once: every refund job runs it. A Core read (db.loaded), as the return's lock is.
_LOCK_REFUND = (select(Refund.__table__).where(Refund.__table__.c.id == bindparam("refund_id"))
                .with_for_update())


def lock_refund_of_return(refund_id: int, return_id: int) -> tuple[Refund | None, Return]:
    """lock_with_return for a caller that knows the refund's return (the refund job): the
    return, then the refund, each read once, under its lock (the refund as committed, as a
    refresh would leave it)."""
    ret = lock_return_by_id(return_id)
    rows = read_rows(db.session, _LOCK_REFUND, {"refund_id": refund_id})
    if not rows:
        return None, ret
    # Its `return_` is found in the session (a many-to-one by primary key): no query.
    return object_from_row(db.session, Refund, rows[0]), ret


def apply_provider_answer(refund: Refund, ret: Return | None, provider: ProviderRefund, *,
                          actor: Actor = STRIPE_ACTOR) -> str:
    """Record what Stripe says about one of our refunds (the job's answer, a poll, a
    webhook) and move it forward. The caller holds the return's lock and commits.

    When Stripe reports another amount or currency than the row asked for, the row takes
    Stripe's figures (the money that really moved), the return is flagged for a person, and
    a success moves the return only if the refunds in the order's currency now cover what it
    is owed: the answer is never taken for the amount we asked for.
    """
    if refund.provider_refund_id is None:
        refund.provider_refund_id = provider.id
    reported = provider.currency or refund.currency  # an answer without one: ours
    if (provider.amount, reported) == (refund.amount, refund.currency):
        return apply_refund_status(refund, ret, provider.status,
                                   failure_reason=provider.failure_reason, actor=actor)
    asked = format_money(refund.amount, refund.currency)
    refund.amount, refund.currency = provider.amount, reported
    if ret is not None:
        flag_for_review(ret, f"Refund attempt {refund.attempt} ({provider.id}): we asked "
                        f"Stripe for {asked}, Stripe reports "
                        f"{format_money(provider.amount, reported)} ({provider.status}). It "
                        "is recorded as Stripe reports it; only refunds in the order's "
                        f"currency ({ret.order.currency}) count towards what the return is "
                        "owed. Check the payment in the Stripe dashboard.", actor)
    result = apply_refund_status(refund, None, provider.status,
                                 failure_reason=provider.failure_reason, actor=actor)
    if ret is not None and result == provider.status and refund.origin == "service" \
            and (result != "succeeded" or _covered(ret)):
        _move_return(refund, ret, result, actor)
    return f"{result}, flagged: Stripe reports another amount or currency"


def apply_refund_status(refund: Refund, ret: Return | None, status: str, *,
                        failure_reason: str | None = None, message: str | None = None,
                        actor: Actor = STRIPE_ACTOR) -> str:
    """Move a refund (and its return) forward to `status`; never backwards.

    The caller holds the return's lock and commits. Final statuses never change: news that
    contradicts one (a refund failing after it succeeded, a refund succeeding that we had
    given up on) flags the return for a person.
    """
    old = refund.status
    if status not in STATUS_RANK or status == old:
        return f"unchanged ({old})"
    if old in FINAL_STATUSES:
        contradicts = (old == "succeeded") != (status == "succeeded") \
            and status in FINAL_STATUSES
        if ret is not None and contradicts:
            flag_for_review(ret, f"Stripe now reports refund {refund.provider_refund_id} as "
                            f"{status} ({failure_reason or 'no reason given'}), but it was "
                            f"recorded as {old}. Check the payment in the Stripe dashboard.",
                            actor)
            return "flagged"
        return f"unchanged ({old})"
    if STATUS_RANK[status] < STATUS_RANK[old]:
        return f"unchanged ({old})"
    refund.status = status
    metrics.refund_outcome(status)  # counted when the change is made (a rollback is rare)
    refund.failure_reason = failure_reason if status in ("failed", "canceled") else None
    if status in ("failed", "canceled"):
        refund.failure_message = message or _stripe_failure_message(failure_reason)
    if status == "succeeded":
        refund.succeeded_at = utcnow()
    if status in FINAL_STATUSES:
        refund_outcome.send(refund, ret=ret)
    if ret is None:
        return status
    if refund.origin == "external":
        if status == "succeeded":
            external_refund_succeeded(refund, ret, actor)
        return status
    _move_return(refund, ret, status, actor)
    return status


def _move_return(refund: Refund, ret: Return, status: str, actor: Actor) -> None:
    if status == "succeeded":
        if ret.status in ("refund_pending", "refund_failed"):
            transition(ret, "refund_succeeded", actor,
                       data={"refund_id": refund.id, "amount": refund.amount})
        elif ret.status == "refunded":
            flag_for_review(ret, f"Refund attempt {refund.attempt} "
                            f"({refund.provider_refund_id}) succeeded after the return had "
                            "already been refunded another way: the customer may have been "
                            "paid twice.", actor)
    elif status in ("failed", "canceled") and ret.status == "refund_pending" \
            and _covered(ret):
        # Ours did not go through, but refunds made in the dashboard paid the customer.
        transition(ret, "refund_succeeded", actor, note="Refunded in the Stripe dashboard.",
                   data={"refund_id": refund.id, "reason": refund.failure_reason})
    elif status in ("failed", "canceled") and ret.status == "refund_pending":
        transition(ret, "refund_failed", actor,
                   data={"refund_id": refund.id, "reason": refund.failure_reason})
        # What went wrong and what to do is for staff, not for the customer's status page.
        note_for_staff(ret, refund.failure_message or "", actor, kind="refund",
                       data={"refund_id": refund.id, "reason": refund.failure_reason})


def _stripe_failure_message(reason: str | None) -> str:
    return (f"Stripe could not complete the refund ({reason or 'no reason given'}). Check the "
            "payment in the Stripe dashboard, then retry or record a refund made outside "
            "Stripe.")


def external_refund_succeeded(refund: Refund, ret: Return, actor: Actor) -> None:
    """A refund made in the Stripe dashboard went through: the return is refunded, and our
    own attempt is withdrawn if it was never sent. Anything ambiguous goes to a person."""
    money = format_money(refund.amount, refund.currency)
    data = {"refund_id": refund.id, "amount": refund.amount, "origin": "external"}
    if ret.status == "refunded":
        flag_for_review(ret, f"A further refund of {money} ({refund.provider_refund_id}) was "
                        "made in the Stripe dashboard after this return was refunded: check "
                        "whether the customer was paid twice.", actor)
        return
    if not _covered(ret):
        flag_for_review(ret, f"A partial refund of {money} ({refund.provider_refund_id}) was "
                        "made in the Stripe dashboard; the return expects "
                        f"{format_money(ret.refund_amount or 0, refund.currency)}.", actor)
        return
    if ret.status == "received":
        transition(ret, "record_manual_refund", actor, data=data,
                   note="Refunded in the Stripe dashboard.")
    elif ret.status == "refund_failed":
        transition(ret, "refund_succeeded", actor, data=data,
                   note="Refunded in the Stripe dashboard.")
    elif ret.status == "refund_pending":
        ours = db.session.scalar(
            select(Refund).where(Refund.return_id == ret.id, Refund.origin == "service",
                                 Refund.status.in_(PENDING_STATUSES))
            .with_for_update().execution_options(populate_existing=True))
        if ours is not None and ours.submitted_at is not None:
            flag_for_review(ret, f"A refund of {money} ({refund.provider_refund_id}) was made "
                            "in the Stripe dashboard while ours was being sent: check whether "
                            "the customer was paid twice.", actor)
            return
        if ours is not None:
            ours.status, ours.failure_reason = "canceled", "refunded_outside"
            ours.failure_message = (f"Not sent: the refund was made in the Stripe dashboard "
                                    f"({refund.provider_refund_id}).")
        transition(ret, "refund_succeeded", actor, data=data,
                   note="Refunded in the Stripe dashboard.")
