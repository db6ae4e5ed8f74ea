"""What orders ask the domains above them: an order owns no returns or refunds, yet a re-import
must not change what those rest on. Returns and refunds answer `order_pins_asked` (connected in
their `init_app`) with an `OrderPins`; the orders domain merges the answers."""

from __future__ import annotations

from dataclasses import dataclass, field

from blinker import Namespace

_signals = Namespace()

# sender: the Order being re-imported; each receiver answers an OrderPins.
order_pins_asked = _signals.signal("order-pins-asked")


@dataclass(frozen=True)
class OrderPins:
    """What existing returns and refunds fix on an order."""

    has_history: bool = False  # any return or refund: currency and payment may not change
    claimed: dict[int, int] = field(default_factory=dict)  # line id -> quantity in returns
    lines_in_returns: frozenset[int] = frozenset()  # lines any return (even a closed one) names

    def merged(self, other: OrderPins) -> OrderPins:
        claimed = dict(self.claimed)
        for line_id, quantity in other.claimed.items():
            claimed[line_id] = claimed.get(line_id, 0) + quantity
        return OrderPins(self.has_history or other.has_history, claimed,
                         self.lines_in_returns | other.lines_in_returns)
