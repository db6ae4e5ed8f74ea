"""Signals of the conversations, for the domains above (notifications sends the emails), so
conversations never imports them. Sent inside the transaction, like the returns' signals:
a receiver's rows and outbox messages commit (or roll back) with the message.

- `agent_replied`: an agent wrote to the customer; kwargs: message (ConversationMessage).
- `staff_mentioned`: an internal note @mentions colleagues; kwargs: note, users.
- `customer_wrote`: a customer message was recorded (the round robin picks unassigned
  returns up); kwargs: message_id.
"""

from blinker import Namespace

_signals = Namespace()

# sender: the Return
agent_replied = _signals.signal("agent-replied")
# sender: the Return
staff_mentioned = _signals.signal("staff-mentioned")
# sender: the Return
customer_wrote = _signals.signal("customer-wrote")
