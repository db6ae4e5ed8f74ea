"""One return's whole cost in the app's processes, for `bench.instructions`: its three
requests (request, approval, receipt) and every job they cause (the refund against
localstripe, the emails against an SMTP sink, the "we have your request" email skipped once
the approval is out, the "refund on its way" email the refund's outcome queues), RQ's own
work around each job included.

Jobs run in the measuring process, as rq's SimpleWorker runs them in `flask worker`
(dequeue, execute, record), so callgrind counts them with the requests. After each return's
receipt the worker works the queue until it is empty: the return's messages come in the
batches the due list hands out, as in `bench.pipeline` at saturation. PostgreSQL, Redis,
localstripe and the SMTP sink are other processes: not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

WARM = 3  # returns run through before counting: connections, imports, first renders


class Drain:
    """rq's SimpleWorker taking jobs off the app's queue until none is left."""

    def __init__(self, app: Any) -> None:
        from returns_service.worker import SimpleWorker

        self.queue = app.extensions["rq_queue"]
        self.worker = SimpleWorker([self.queue], connection=self.queue.connection)
        self.worker.register_birth()
        self.jobs = 0

    def __call__(self) -> None:
        while (taken := self.worker.dequeue_job_and_maintain_ttl(None)) is not None:
            job, queue = taken
            self.worker.execute_job(job, queue)
            self.jobs += 1

    def close(self) -> None:
        self.worker.register_death()


def run_returns(numbers: list[str], create: Callable[[str], str],
                approve: Callable[[str], None], receive: Callable[[str], None],
                drain: Drain) -> list[str]:
    """Each order's return requested, approved, received, then its jobs run; the RMAs."""
    rmas = []
    for number in numbers:
        rma = create(number)
        approve(rma)
        receive(rma)
        drain()
        rmas.append(rma)
    return rmas


def check_through(app: Any, rmas: list[str]) -> None:
    """Every return refunded and none of its emails still pending: else the count is of
    something else."""
    from sqlalchemy import text

    from returns_service.db import db

    with app.app_context():
        refunded, unsent = db.session.execute(text(
            "SELECT count(*) FILTER (WHERE r.status = 'refunded'), "
            "(SELECT count(*) FROM notifications n WHERE n.return_id = ANY(array_agg(r.id)) "
            "AND n.status = 'pending') FROM returns r WHERE r.rma = ANY(:rmas)"),
            {"rmas": rmas}).one()
    if refunded != len(rmas) or unsent:
        raise RuntimeError(f"of {len(rmas)} returns {refunded} refunded, {unsent} emails "
                           "pending: the jobs did not get through")
