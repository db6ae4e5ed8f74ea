"""Signals the packages above exchanges subscribe to, so exchanges never imports them.

- `exchange_ordered`: an exchange order was created (the original arrived), inside that
  transaction; integrations send the `exchange.ordered` webhook event.
"""

from blinker import Namespace

_signals = Namespace()

# sender: the Exchange, now ordered; kwargs: order (the ExchangeOrder), ret (its Return)
exchange_ordered = _signals.signal("exchange-ordered")
