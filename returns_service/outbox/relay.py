"""After commit, hand new outbox messages to RQ (or run them in-process without Redis).

Messages are written already marked as enqueued (see `service.emit`): the common case costs
no extra transaction. Messages that could not be enqueued (Redis down) get the mark cleared;
`relay_pending` (run by `flask outbox relay` and the scheduler) picks them up later, and also
re-sends marked messages still unprocessed long after (a process died before handing over).

One RQ job per batch of due messages: after a commit its message ids are appended to the
queue's due list, and an RQ job (`worker.run_outbox_due`) is queued only when the flag
"a batch job is waiting or working" is free (set with the same MULTI/EXEC). The job takes
up to BATCH_SIZE ids at a time and comes back for more when it is done with them, so the
messages committed meanwhile (such as the email a refund's outcome queues) go in the same
job instead of costing RQ another one. The flag is cleared only by a take that finds the
list empty, in one step with it (a Lua script): an id appended afterwards finds the flag
gone and queues the next job, an id appended before is taken by the running job. Ids
taken by a worker that dies are re-sent by the relay once stale, like any message handed
over and not processed; the flag it held runs out after FLAG_TTL_SECONDS.

What a batch job's own work commits (the email a refund's outcome queues) does not go
through Redis at all: while the job runs (`own_messages`), its commits' new ids are kept
in the worker and taken next, before the due list. Were the worker to die first, those rows
are marked handed over and still unprocessed, so the relay re-sends them once stale, as
for ids taken off the list.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from redis.commands.core import Script
from redis.exceptions import RedisError
from rq import Retry
from sqlalchemy import event, update
from sqlalchemy.orm import Session, SessionTransaction

from returns_service.common.clock import utcnow
from returns_service.db import db
from returns_service.outbox import service
from returns_service.outbox.models import OutboxMessage
from returns_service.outbox.registry import RetryLater

log = logging.getLogger(__name__)
_SESSION_KEY = service.NEW_IDS_KEY
RETRY_INTERVALS = [5, 30, 120, 600, 1800, 3600]
# Messages per RQ job when the relay hands out many at once: enough to spare RQ's own work
# per job (dequeue, heartbeats, registries), few enough for both workers to share a backlog.
BATCH_SIZE = 20
# How long rq keeps an outbox job once it ran, for every job queued here. Finished: a minute
# (the outbox rows record what was done). Not 0: rq deletes a job kept 0 s with seven round
# trips of its own after it ran, where an expiry rides in the pipeline it sends anyway; a
# minute of finished jobs is a few KB each. Failed: a week, for a person to look at.
FINISHED_JOB_TTL = 60
JOB_TTLS = {"result_ttl": FINISHED_JOB_TTL, "failure_ttl": 7 * 24 * 3600}


def _after_commit(session: Session) -> None:
    # after_commit also fires when a SAVEPOINT (begin_nested, e.g. an order import) is
    # released; dispatching then would hand out rows the outer transaction has not committed.
    if session.in_nested_transaction():
        return
    ids = session.info.pop(_SESSION_KEY, None)
    if not ids or not has_app_context():
        return
    own = _own_messages.get()
    if own is not None:  # the running batch job takes them next (own_messages)
        own.extend(ids)
        return
    dispatch(current_app._get_current_object(), ids,  # type: ignore[attr-defined]
             marked=True)


def _after_rollback(session: Session, previous: SessionTransaction) -> None:
    # Only the outermost rollback forgets the ids: a rolled-back SAVEPOINT (an order import
    # insert that met a concurrent twin) must not drop messages emitted earlier in the
    # same transaction.
    if not previous.nested and previous.parent is None:
        session.info.pop(_SESSION_KEY, None)


def install() -> None:
    """Listen on every ORM session, once per process."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)


def dispatch(app: Flask, ids: Iterable[int], *, marked: bool = False) -> None:
    """Enqueue each message to RQ, or run it now in-process when Redis is not configured.

    `marked`: the rows already carry enqueued_at (written by emit); only failures are
    written back. Otherwise (the relay's re-sends) successes are marked."""
    ids = list(ids)
    queue = app.extensions.get("rq_queue")
    if queue is None:
        for message_id in ids:
            _run_in_process(app, message_id)
        return
    try:
        if marked:  # a commit's new messages: onto the due list
            _append_due(queue, ids)
        else:
            # One pipeline (MULTI/EXEC) for all: one round trip, all handed over or none.
            with queue.connection.pipeline() as pipe:
                for start in range(0, len(ids), BATCH_SIZE):
                    enqueue(queue, ids[start:start + BATCH_SIZE], pipe)
                pipe.execute()
    except RedisError as exc:
        log.warning("Redis unavailable (%s): %d outbox message(s) kept for the relay",
                    exc, len(ids))
        if marked:
            _set_enqueued_at(app, ids, None)
        return
    if not marked:
        _set_enqueued_at(app, ids, utcnow())


def due_keys(queue_name: str) -> tuple[str, str]:
    """The Redis keys of a queue's due list and of its "a batch job is waiting" flag."""
    return f"outbox:due:{queue_name}", f"outbox:batch-waiting:{queue_name}"


# The flag outlives its job only if that job was lost (Redis emptied, its worker killed): the
# next commit after this many seconds queues a new one (and the relay re-sends what was
# stranded).
FLAG_TTL_SECONDS = 60


# Append ARGV[2..] to the due list and set the flag, unless set, for ARGV[1] seconds, as one
# step: 1 when the flag was free (the caller then queues the job). A script rather than
# MULTI/EXEC: one command and one reply where the transaction has four of each. The ids go
# in slices, as Lua's unpack takes a few thousand values at most.
_APPEND = Script(None, b"""
for i = 2, #ARGV, 1000 do
  redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return 1 end
return 0
""")


def _append_due(queue: Any, ids: list[int]) -> None:
    due, waiting = due_keys(queue.name)
    flag_was_free = _APPEND(keys=[due, waiting], args=[FLAG_TTL_SECONDS, *ids],
                            client=queue.connection)
    if flag_was_free:
        try:
            _queue_batch_job(queue)
        except BaseException:
            queue.connection.delete(waiting)  # so the next commit tries again
            raise


def _queue_batch_job(queue: Any) -> None:
    with queue.connection.pipeline() as pipe:  # rq's queue registration and the job: one trip
        queue.enqueue_call("returns_service.worker.run_outbox_due", pipeline=pipe,
                           **JOB_TTLS)
        pipe.execute()


# LPOP up to ARGV[1] ids off the due list. Nothing to take: the job is leaving, and the flag
# goes in the same step (Redis runs a script alone, so no append falls between the two).
# Else the flag is kept ARGV[2] more seconds for the job, which will come back.
_TAKE = Script(None, b"""
local taken = redis.call('LPOP', KEYS[1], ARGV[1])
if not taken then
  redis.call('DEL', KEYS[2])
  return {{}, 0}
end
redis.call('EXPIRE', KEYS[2], ARGV[2])
return {taken, redis.call('LLEN', KEYS[1])}
""")
# A job comes back for more this many times at most, then leaves the rest to a new job (so
# one job does not hold a worker for ever while commits keep coming).
MAX_TAKES = 10


# The ids committed by the batch job running in this thread (own_messages), else None.
_own_messages: ContextVar[list[int] | None] = ContextVar("outbox_own_messages", default=None)


@contextmanager
def own_messages(app: Flask) -> Iterator[list[int]]:
    """For a batch job: the ids its commits write, kept here for the job to take (with
    `take_own`) instead of appended to the due list. Those still kept when the block ends
    (an error, or MAX_TAKES reached) are handed over as any commit's are."""
    kept: list[int] = []
    token = _own_messages.set(kept)
    try:
        yield kept
    finally:
        _own_messages.reset(token)
        if kept:
            dispatch(app, kept, marked=True)


def take_own(kept: list[int]) -> list[int]:
    """Up to BATCH_SIZE of the ids `own_messages` kept, in the order they were committed."""
    taken = kept[:BATCH_SIZE]
    del kept[:BATCH_SIZE]
    return taken


def take_due(queue: Any, *, share: bool = True) -> list[int]:
    """For the batch job: up to BATCH_SIZE due ids (in the order they were committed). The
    flag stays set until a take finds nothing: the job comes back after each batch, so the
    messages committed meanwhile (its own work's among them) need no job of their own. With
    `share` (a job's first take) and ids left, another batch job is queued for them, so a
    second worker helps with a backlog."""
    due, waiting = due_keys(queue.name)
    taken, left = _TAKE(keys=[due, waiting], args=[BATCH_SIZE, FLAG_TTL_SECONDS],
                        client=queue.connection)
    if left and share:
        _queue_batch_job(queue)
    return [int(i) for i in taken]


def release_due(queue: Any) -> None:
    """A batch job stopping before the list is empty: the flag is cleared and, should ids
    still wait, the next job queued (the flag is set again with it)."""
    due, waiting = due_keys(queue.name)
    queue.connection.delete(waiting)
    if queue.connection.llen(due):
        _append_due(queue, [])


def retry_later(queue: Any, message_ids: list[int]) -> None:
    """Messages of a batch job that failed: an explicit batch job for them, with the usual
    retries (the first in RETRY_INTERVALS[0] seconds)."""
    queue.enqueue_in(timedelta(seconds=RETRY_INTERVALS[0]),
                     "returns_service.worker.run_outbox_batch", list(message_ids),
                     job_id=job_id(message_ids),
                     retry=Retry(max=len(RETRY_INTERVALS) - 1, interval=RETRY_INTERVALS[1:]),
                     **JOB_TTLS)


def _set_enqueued_at(app: Flask, ids: list[int], value: datetime | None) -> None:
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                     .values(enqueued_at=value))


def enqueue(queue: object, message_ids: list[int], pipeline: object = None) -> None:
    """Add one job for these messages to `queue`; with `pipeline`, the caller executes it.

    The job id names the messages (`outbox-12_13`), so handing the same batch over twice
    (the relay after a lost hand-over) replaces the job instead of queueing a second one."""
    queue.enqueue_call(  # type: ignore[attr-defined]
        "returns_service.worker.run_outbox_batch", args=(list(message_ids),),
        pipeline=pipeline, job_id=job_id(message_ids),
        retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS), **JOB_TTLS)


def job_id(message_ids: list[int]) -> str:
    return "outbox-" + "_".join(str(i) for i in message_ids)


def message_ids_of(rq_job_id: str) -> list[int]:
    """The outbox messages an RQ job of ours carries, from its id (`job_id`'s inverse)."""
    if not rq_job_id.startswith("outbox-"):
        return []
    return [int(part) for part in rq_job_id.removeprefix("outbox-").split("_")]


def _run_in_process(app: Flask, message_id: int) -> None:
    with app.app_context():  # a fresh context gives a fresh session
        try:
            service.process(message_id)
        except RetryLater:
            pass  # an expected wait (no STRIPE_API_KEY yet): process() said why, once
        except Exception:
            log.exception("in-process job for outbox message %s failed; the relay retries it",
                          message_id)


def relay_pending(app: Flask, *, stale_after_seconds: int | None = None) -> int:
    """Re-dispatch messages left behind (Redis was down, a worker died): those never handed
    over, and those handed over longer ago than `stale_after_seconds` (default:
    OUTBOX_STALE_SECONDS) and still not done. Returns how many."""
    if stale_after_seconds is None:
        stale_after_seconds = int(app.config["OUTBOX_STALE_SECONDS"])
    with app.app_context():
        ids = service.pending_ids(stale_after_seconds=stale_after_seconds)
    if ids:
        dispatch(app, ids)
    return len(ids)
