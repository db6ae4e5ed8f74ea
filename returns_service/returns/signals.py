"""Signals the domains above returns subscribe to, so returns never imports them.

Both are sent inside the transaction, so subscribers can change rows and write outbox
messages atomically with the change that caused them:
- `status_changed`: right after the workflow moved a return (and once when one is created);
  notifications queue the customer's email, metrics count the change after commit.
- `return_received`: the warehouse recorded what arrived; refunds work out the refund and
  start it (or issue store credit), or close the return when nothing qualifies.
- `return_approved`: an agent or the policy approved; refunds resolve a keep-the-item
  return at once (nothing will arrive).
"""

from blinker import Namespace

_signals = Namespace()

# sender: the Return; kwargs: event (the ReturnEvent just appended)
status_changed = _signals.signal("status-changed")
# sender: the Return, now received with its items' conditions set; kwargs: actor
return_received = _signals.signal("return-received")
# sender: the Return, just approved; kwargs: actor
return_approved = _signals.signal("return-approved")
