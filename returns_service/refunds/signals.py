"""Signals the domains above refunds subscribe to, so refunds never imports them.

- `refund_outcome`: a refund reached a final outcome (succeeded, failed or canceled), sent
  inside the transaction that records it; integrations send `refund.succeeded` /
  `refund.failed` webhooks.
- `return_settling`: a return is about to be settled (its parcel received, or a keep-the-item
  return approved), before anything is priced; exchanges order the new items of lines that
  arrived and drop the exchanges that cannot go on.
- `exchanged_items_asked`: which items of a return are exchanged rather than refunded;
  each receiver answers {return item id: what is still owed for it} (a cheaper variant's
  difference, else 0): the item is refunded that amount instead of its price.
"""

from blinker import Namespace

_signals = Namespace()

# sender: the Refund, with its new status; kwargs: ret (its Return, or None when the refund
# counts towards no return)
refund_outcome = _signals.signal("refund-outcome")

# sender: the Return about to be settled; kwargs: actor, kept (True: keep-the-item, no parcel)
return_settling = _signals.signal("return-settling")
# sender: the Return; each receiver returns {ReturnItem id: amount still owed for it}
exchanged_items_asked = _signals.signal("exchanged-items-asked")


def exchanged_items(ret: object) -> dict[int, int]:
    """The items of `ret` that the domains above replace instead of refunding, with what is
    still owed for each (minor units, 0 when nothing)."""
    owed: dict[int, int] = {}
    for _receiver, answer in exchanged_items_asked.send(ret):
        owed.update(answer or {})
    return owed
