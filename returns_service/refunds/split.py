"""How a refund is shared out over the payments of an order paid several ways: a pure
function of the amount, what each payment can still take back, and the policy's strategy
(`refund_split`: card_first, gift_card_first or proportional)."""

from __future__ import annotations

from dataclasses import dataclass

from returns_service.common.money import allocate

# The order payments are paid back in, per strategy (proportional overflows in card order).
ORDER = {"card_first": ("stripe", "other", "store_credit", "gift_card"),
         "gift_card_first": ("gift_card", "store_credit", "stripe", "other")}


@dataclass(frozen=True)
class Payment:
    provider: str  # stripe, gift_card, store_credit, other
    paid: int  # what it paid of the order
    room: int  # what it can still take back: paid less what was refunded to it already


def split_refund(amount: int, payments: list[Payment], strategy: str,
                 step: int = 1) -> list[int]:
    """`amount` shared out over `payments` (one part per payment, in their order): never
    more to a payment than its room, and the parts sum to `amount` (ValueError when the
    payments cannot take it back). `step`: the Stripe part stays a whole number of steps
    (three-decimal currencies), the others take the difference."""
    if amount > sum(p.room for p in payments):
        raise ValueError("the payments cannot take back that much")
    parts = [0] * len(payments)
    left = amount
    if strategy == "proportional":
        wanted = allocate(amount, [p.paid for p in payments])
        for index, p in enumerate(payments):
            parts[index] = min(wanted[index], p.room)
        left = amount - sum(parts)
    order = ORDER.get(strategy, ORDER["card_first"])
    ranked = sorted(range(len(payments)), key=lambda i: order.index(payments[i].provider))
    for index in ranked:  # first come, as far as each can take
        take = min(left, payments[index].room - parts[index])
        parts[index] += take
        left -= take
    return _whole_steps(parts, payments, step)


def _whole_steps(parts: list[int], payments: list[Payment], step: int) -> list[int]:
    """Move the Stripe part's odd minor units to a payment that has room for them."""
    if step <= 1:
        return parts
    for index, p in enumerate(payments):
        odd = parts[index] % step
        if p.provider != "stripe" or not odd:
            continue
        other = next((i for i, q in enumerate(payments)
                      if q.provider != "stripe" and q.room - parts[i] >= odd), None)
        if other is not None:
            parts[index] -= odd
            parts[other] += odd
    return parts
