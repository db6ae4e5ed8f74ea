"""90 days of made-up history for the demo: a few hundred returns from requested to refunded
(some rejected, cancelled, expired or closed), with CSAT and NPS answers, so the dashboard
and the queue look like a real store's.

Everything goes through the real services and workflow with the clock frozen at each step's
moment (`common.clock.freeze`), so the timestamps, the audit trail and the reports are what
they would have been. Steps due after "now" are simply not taken yet: those returns are the
open ones in the queue. Two shortcuts keep seeding fast and quiet:

- refunds are settled as Stripe's answer would settle them (through the refund service), but
  no Stripe is called: these payments exist nowhere;
- the history's emails are marked skipped, not sent: they would otherwise all land in the
  Demo mailbox at once, burying the emails of the return being demonstrated.

One transaction: either the whole history is there or none of it, and a second run finds it
and adds nothing.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from returns_service.common import clock
from returns_service.db import db
from returns_service.demo.data import DEMO_STAFF
from returns_service.feedback.services import record_feedback
from returns_service.http.auth import staff_actor
from returns_service.notifications.models import Notification
from returns_service.orders.models import Order
from returns_service.orders.services import upsert_order
from returns_service.outbox.models import OutboxMessage
from returns_service.outbox.service import NEW_IDS_KEY
from returns_service.refunds.models import Refund
from returns_service.refunds.outcomes import apply_refund_status, lock_with_return
from returns_service.refunds.services import record_manual_refund
from returns_service.returns.models import Return
from returns_service.returns.services import (
    approve_return,
    cancel_return,
    create_return,
    get_return,
    lock_return,
    receive_return,
    reject_return,
    transition,
)
from returns_service.staff.models import StaffUser
from workflows.returns import Actor

HISTORY_DAYS = 90
HISTORY_RETURNS = 320
# History orders are numbered from here; the first one existing means the history does.
FIRST_ORDER_NUMBER = 50001
SEED = 2026  # the same history on every machine

PRODUCTS = (
    ("TSHIRT-M", "Organic T-shirt, M", 2500), ("TSHIRT-L", "Organic T-shirt, L", 2500),
    ("JEANS-32", "Slim jeans, 32", 7900), ("JEANS-34", "Slim jeans, 34", 7900),
    ("HOODIE-M", "Hoodie, M", 5900), ("SNEAKER-42", "Canvas sneakers, 42", 6900),
    ("SNEAKER-44", "Canvas sneakers, 44", 6900), ("JACKET-M", "Rain jacket, M", 12900),
    ("DRESS-S", "Linen dress, S", 8900), ("BELT-90", "Leather belt, 90 cm", 3500),
    ("SCARF-01", "Wool scarf", 2900), ("BAG-01", "Canvas tote bag", 1900),
)
FIRST_NAMES = ("Amelia", "Ben", "Chloe", "Daniel", "Ella", "Finn", "Grace", "Hugo", "Isla",
               "Jonas", "Kara", "Liam", "Maya", "Noah", "Olivia", "Paul", "Rosa", "Sven")
LAST_NAMES = ("Berg", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Jansen",
              "Kowalski", "Moreau", "Novak", "Rossi")
REASONS = {"doesnt_fit": 35, "changed_mind": 20, "damaged": 12, "defective": 9,
           "not_as_described": 10, "wrong_item": 8, "other": 6}
MERCHANT_FAULT = {"damaged", "defective", "wrong_item", "not_as_described"}
OUTCOMES = {"refunded": 70, "rejected": 8, "cancelled": 6, "expired": 6, "closed": 4,
            "failed_then_manual": 3, "cancelled_by_customer": 3}
REJECTIONS = (("used", "The items show signs of wear."),
              ("outside_window", "The return window had closed when you asked."),
              ("no_proof", "We could not see the damage on the photos you sent."))
COMMENTS = {5: ("Quick and painless, thank you!", "Refund arrived in two days."),
            4: ("Easy enough.", "Took a while for the parcel to be checked."),
            3: ("OK, but the label was hard to print.",),
            2: ("Waited a long time for an answer.",),
            1: ("Very disappointed with the decision.",)}
RATINGS = {"good": {5: 45, 4: 30, 3: 12, 2: 8, 1: 5},
           "bad": {1: 35, 2: 30, 3: 20, 4: 10, 5: 5},
           "mixed": {5: 15, 4: 30, 3: 30, 2: 15, 1: 10}}


@dataclass
class _Plan:
    """One return's life: the steps to take, each at its moment."""

    steps: list[tuple[datetime, Callable[[], Any]]] = field(default_factory=list)

    def at(self, moment: datetime, step: Callable[[], Any]) -> None:
        self.steps.append((moment, step))


def _pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def history_exists() -> bool:
    return db.session.scalar(select(Order.id).where(
        Order.number == str(FIRST_ORDER_NUMBER))) is not None


def history_count() -> int:
    """How many returns the history has (0 when it was never seeded)."""
    return db.session.scalar(select(func.count(Return.id)).join(Order).where(
        Order.number >= str(FIRST_ORDER_NUMBER),
        Order.number < str(FIRST_ORDER_NUMBER + HISTORY_RETURNS))) or 0


def seed_history(now: datetime | None = None, count: int = HISTORY_RETURNS) -> str:
    """Seed the history ending at `now` unless it is there already; one line saying what
    happened. Commits."""
    if history_exists():
        return f"History: already seeded ({history_count()} returns), nothing added."
    started = time.monotonic()
    now = now or clock.utcnow()
    actors = _staff_actors()
    rng = random.Random(SEED)
    try:
        made = _play(rng, now, count, actors)
    finally:
        clock.freeze(None)
    _keep_history_emails_unsent(made, now)
    db.session.commit()
    statuses = dict(db.session.execute(
        select(Return.status, func.count()).where(Return.id.in_(made))
        .group_by(Return.status)).all())
    summary = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items(), key=lambda x: -x[1]))
    return (f"History: {len(made)} returns over the last {HISTORY_DAYS} days ({summary}), "
            f"seeded in {time.monotonic() - started:.1f} s.")


def _staff_actors() -> dict[str, Actor]:
    """The demo's agent and warehouse user act in the history (seed() creates them)."""
    emails = {role: email for email, role, _ in DEMO_STAFF}
    users = {u.role: u for u in db.session.scalars(select(StaffUser).where(
        StaffUser.email.in_([emails["agent"], emails["warehouse"]])))}
    return {role: staff_actor(users[role]) if role in users else Actor.system(f"demo {role}")
            for role in ("agent", "warehouse")}


def _play(rng: random.Random, now: datetime, count: int,
          actors: dict[str, Actor]) -> list[int]:
    """Plan every return, then take the steps due by `now`, each at its moment."""
    start = now - timedelta(days=HISTORY_DAYS)
    expiry = timedelta(days=int(current_app.config["RETURN_EXPIRY_DAYS"]))
    made: list[int] = []
    moments = sorted(start + timedelta(seconds=rng.uniform(0, HISTORY_DAYS * 86400))
                     for _ in range(count))
    for index, requested in enumerate(moments):
        # Never after now: between midnight and 07:00 UTC, a request moved into today's
        # daytime would lie in the future, after the steps its plan caps at now.
        daytime = min(_daytime(rng, requested), now)
        plan = _plan_one(rng, index, daytime, now, expiry, actors, made)
        for moment, step in sorted(plan.steps, key=lambda s: s[0]):
            if moment > now:
                break  # not happened yet: the return stays where it is, open
            clock.freeze(moment)
            step()
    return made


def _daytime(rng: random.Random, moment: datetime) -> datetime:
    """People ask for returns between 07:00 and 23:00."""
    return moment.replace(hour=rng.randint(7, 22), minute=rng.randint(0, 59))


def _order_data(rng: random.Random, index: int, requested: datetime) -> dict[str, Any]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    delivered = requested - timedelta(days=rng.uniform(1, 20))
    products = rng.sample(PRODUCTS, rng.choice((1, 1, 2, 2, 3)))
    return {"number": str(FIRST_ORDER_NUMBER + index),
            "email": f"{first}.{last}@example.com".lower(), "customer_name": f"{first} {last}",
            "currency": "USD" if rng.random() < 0.1 else "EUR",
            "placed_at": delivered - timedelta(days=rng.uniform(2, 5)),
            "delivered_at": delivered, "channel": "web",
            "shipping_total": rng.choice((0, 495, 495)),
            "payment": {"provider": "stripe", "payment_intent": f"pi_demo_history_{index}"},
            "lines": [{"sku": sku, "name": name, "quantity": rng.choice((1, 1, 2)),
                       "unit_price": price} for sku, name, price in products]}


def _response_delay(rng: random.Random) -> timedelta:
    """Most requests get an answer within a working day, a few wait longer."""
    band = _pick(rng, {(0.3, 6): 55, (6, 24): 33, (24, 60): 12})
    return timedelta(hours=rng.uniform(*band))


def _plan_one(rng: random.Random, index: int, requested: datetime, now: datetime,
              expiry: timedelta, actors: dict[str, Actor], made: list[int]) -> _Plan:
    agent, warehouse = actors["agent"], actors["warehouse"]
    data = _order_data(rng, index, requested)
    lines = rng.sample(data["lines"], rng.randint(1, len(data["lines"])))
    items = [{"sku": line["sku"], "quantity": rng.randint(1, line["quantity"]),
              "reason": _pick(rng, REASONS)} for line in lines]
    outcome = _pick(rng, OUTCOMES)
    channel = _pick(rng, {"web": 78, "api": 8, "phone": 8, "email": 6})
    plan = _Plan()
    rma: list[str] = []  # set by the request step, read by the later ones

    def request() -> None:
        clock.freeze(data["placed_at"])
        order, _ = upsert_order(data)
        clock.freeze(requested)
        by_staff = channel in ("phone", "email")
        ret = create_return(order, items, channel=channel, now=requested,
                            actor=agent if by_staff else Actor("customer", None, order.email))
        rma.append(ret.rma)
        made.append(ret.id)

    plan.at(requested, request)
    decided = requested + _response_delay(rng)
    if now - requested < timedelta(days=2) and rng.random() < 0.6:
        decided = now + timedelta(hours=1)  # still waiting for an agent: the queue's top
    if outcome == "rejected":
        code, note = rng.choice(REJECTIONS)
        plan.at(decided, lambda: reject_return(rma[0], agent, reason=code, note=note))
        ended = decided
    elif outcome == "cancelled_by_customer":
        # The customer withdraws the request before an agent gets to it.
        ended = requested + (decided - requested) * rng.uniform(0.2, 0.9)
        plan.at(ended, lambda: cancel_return(rma[0], Actor("customer", None, data["email"]),
                                             note="Changed my mind, keeping it."))
    else:
        plan.at(decided, lambda: approve_return(rma[0], agent))
        ended = _after_approval(rng, plan, outcome, decided, now, expiry, items, rma, agent,
                                warehouse, data)
    if ended is not None and rng.random() < 0.5:
        _plan_feedback(rng, plan, outcome, ended + timedelta(hours=rng.uniform(2, 72)), rma)
    return plan


def _after_approval(rng: random.Random, plan: _Plan, outcome: str, approved: datetime,
                    now: datetime, expiry: timedelta, items: list[dict[str, Any]], rma: list[str],
                    agent: Actor, warehouse: Actor, data: dict[str, Any]) -> datetime | None:
    """Plan what follows an approval; the moment the return ends."""
    if outcome == "cancelled":
        moment = approved + timedelta(days=rng.uniform(0.5, 5))
        plan.at(moment, lambda: cancel_return(
            rma[0], agent, note="Cancelled at your request on the phone."))
        return moment
    if outcome == "expired":
        moment = approved + expiry + timedelta(hours=rng.uniform(1, 20))

        def expire() -> None:  # what the scheduler's expire_overdue does, return by return
            transition(lock_return(rma[0]), "expire", Actor.system("expiry"),
                       note=f"No parcel within {expiry.days} days.")

        plan.at(moment, expire)
        return moment
    received = approved + timedelta(days=rng.uniform(2, 10))

    def receive() -> None:
        if outcome == "closed":  # the customer sent something else: nothing to refund
            parcel = [{"sku": i["sku"], "quantity": i["quantity"], "condition": "wrong_item",
                       "note": "Not the item we sold."} for i in items]
        else:
            parcel = [{"sku": i["sku"], "quantity": i["quantity"],
                       "condition": "damaged" if i["reason"] in ("damaged", "defective")
                       else "resellable"} for i in items]
        receive_return(rma[0], parcel, warehouse)

    plan.at(received, receive)
    if outcome == "closed":
        return received
    # Never after "now": a refund left pending would wait for a job that is never run.
    settled = min(received + timedelta(hours=rng.uniform(2, 30)), now)
    if outcome == "refunded":
        plan.at(settled, lambda: _settle(rma[0], "succeeded"))
        return settled
    # Stripe refused (an expired card); an agent paid it back by bank transfer next day.
    plan.at(settled, lambda: _settle(rma[0], "failed"))
    manual = settled + timedelta(hours=rng.uniform(16, 40))

    def pay_manually() -> None:
        ret = get_return(rma[0])
        record_manual_refund(rma[0], agent, amount=ret.refund_amount or 0,
                             reference=f"Bank transfer BT-{data['number']}",
                             note="Card expired; paid back by bank transfer.")

    plan.at(manual, pay_manually)
    return manual


def _settle(rma: str, status: str) -> None:
    """Stripe's answer for the return's refund, recorded as the refund job records it (the
    job itself is never run for the history: its payments exist nowhere)."""
    ret = get_return(rma)
    refund = db.session.scalar(select(Refund).where(Refund.return_id == ret.id)
                               .order_by(Refund.attempt.desc()).limit(1))
    if refund is None:
        return
    ret = lock_with_return(refund)
    refund.submitted_at = clock.utcnow()
    refund.provider_refund_id = f"re_demo_{rma}_{refund.attempt}"
    apply_refund_status(refund, ret, status,
                        failure_reason="expired_or_canceled_card" if status == "failed" else None)


def _plan_feedback(rng: random.Random, plan: _Plan, outcome: str, moment: datetime,
                   rma: list[str]) -> None:
    mood = {"refunded": "good", "failed_then_manual": "mixed", "rejected": "bad",
            "closed": "bad"}.get(outcome, "mixed")
    rating = _pick(rng, RATINGS[mood])
    low, high = {5: (9, 10), 4: (7, 10), 3: (5, 8), 2: (2, 6), 1: (0, 4)}[rating]
    nps = rng.randint(low, high) if rng.random() < 0.7 else None
    comment = rng.choice(COMMENTS[rating]) if rng.random() < 0.3 else None

    def answer() -> None:
        record_feedback(get_return(rma[0]), rating=rating, nps=nps, comment=comment,
                        source=rng.choice(("email", "survey")))

    plan.at(moment, answer)


def _keep_history_emails_unsent(return_ids: list[int], now: datetime) -> None:
    """The history's emails and jobs are its past: mark them done instead of running them
    after the commit (see the module's docstring)."""
    message_ids = db.session.info.pop(NEW_IDS_KEY, None) or []
    if message_ids:
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(message_ids))
                           .values(processed_at=now), execution_options={
                               "synchronize_session": False})
    if return_ids:
        db.session.execute(update(Notification).where(
            Notification.return_id.in_(return_ids),
            Notification.status == "pending").values(
            status="skipped", last_error="Demo history: made up, never sent."),
            execution_options={"synchronize_session": False})
