"""Signals other domains subscribe to, so the core never imports notifications or metrics.

`status_changed` is sent inside the transaction, right after the workflow moved a return
(and once when a return is created), so subscribers can write outbox rows atomically.
"""

from blinker import Namespace

_signals = Namespace()

# sender: the Return; kwargs: event (the ReturnEvent just appended)
status_changed = _signals.signal("status-changed")
