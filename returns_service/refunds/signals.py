"""Signals the domains above refunds subscribe to, so refunds never imports them.

- `refund_outcome`: a refund reached a final outcome (succeeded, failed or canceled), sent
  inside the transaction that records it; integrations send `refund.succeeded` /
  `refund.failed` webhooks.
"""

from blinker import Namespace

_signals = Namespace()

# sender: the Refund, with its new status; kwargs: ret (its Return, or None when the refund
# counts towards no return)
refund_outcome = _signals.signal("refund-outcome")
