"""Response times on the customer conversation, from the messages themselves:

- reply time: from a customer message that found the return not already waiting on us (the
  first of a run of customer messages) to the agents' next reply;
- first response time: the first such reply time of each return.

A reply counts in the period in which it was sent, as the report's other durations do.
The SLA share uses the first-response target (FIRST_RESPONSE_TARGET_HOURS).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from returns_service.conversations.models import ConversationMessage

# A wait longer than this before the period began is not looked back for.
LOOKBACK = timedelta(days=90)


def _distribution(seconds: list[float]) -> dict[str, Any]:
    if not seconds:
        return {"count": 0, "median_seconds": None, "p90_seconds": None}
    ordered = sorted(int(s) for s in seconds)  # whole seconds, as the report's SQL

    def percentile(p: float) -> float:  # linear interpolation, as percentile_cont
        h = (len(ordered) - 1) * p
        low = int(h)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (h - low) * (ordered[high] - ordered[low])

    return {"count": len(ordered), "median_seconds": float(percentile(0.5)),
            "p90_seconds": float(percentile(0.9))}


def message_response_times(session: Session, start: datetime, end: datetime,
                           target_seconds: int) -> dict[str, Any]:
    """First response and reply time on messages, for replies sent in [start, end)."""
    rows = session.execute(
        select(ConversationMessage.return_id, ConversationMessage.direction,
               ConversationMessage.created_at)
        .where(ConversationMessage.created_at >= start - LOOKBACK,
               ConversationMessage.created_at < end)
        .order_by(ConversationMessage.return_id, ConversationMessage.id)).all()
    replies: list[float] = []
    firsts: list[float] = []
    current, waiting_since, answered = None, None, False
    for return_id, direction, at in rows:
        if return_id != current:
            current, waiting_since, answered = return_id, None, False
        if direction == "inbound":
            waiting_since = waiting_since or at
        elif waiting_since is not None:
            took = (at - waiting_since).total_seconds()
            if start <= at < end:
                replies.append(took)
                if not answered:
                    firsts.append(took)
            answered, waiting_since = True, None
    return {"first_response": _distribution(firsts), "reply_time": _distribution(replies),
            "replies_late": sum(1 for s in replies if s > target_seconds)}
