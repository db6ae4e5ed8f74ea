"""Signals of return shipping, for the domains above it (notifications emails the customer).

`shipment_changed` is sent inside the transaction that moved a shipment (label bought, first
scan, delivered…), with the return locked, so a receiver can queue work atomically with it.
"""

from blinker import Namespace

_signals = Namespace()

# sender: the Shipment; kwargs: return_ (the Return, locked), status (the new status)
shipment_changed = _signals.signal("shipment-changed")
