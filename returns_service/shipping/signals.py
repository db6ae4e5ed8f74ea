"""Signals of return shipping, for the domains above it (notifications emails the customer).

`parcel_sizes_asked` is sent when a label's parcel is built: the catalog (exchanges) answers
with its variants' weights and sizes by SKU.

`shipment_changed` is sent inside the transaction that moved a shipment (label bought, first
scan, delivered…), with the return locked, so a receiver can queue work atomically with it.
"""

from blinker import Namespace

_signals = Namespace()

# sender: the Shipment; kwargs: return_ (the Return, locked), status (the new status)
shipment_changed = _signals.signal("shipment-changed")

# sender: the Return; each receiver answers {sku: {"weight_oz", "length_in", "width_in",
# "height_in"}} (values may be None) for the SKUs of the return it knows
parcel_sizes_asked = _signals.signal("parcel-sizes-asked")
