"""Config for RQ's cron scheduler: one pass of the scheduled work every five minutes.

    rq cron deploy/rq_cron.py --url "$REDIS_URL"

(with a worker on the same queue: `flask --app wsgi worker`). The queue name comes from
RQ_QUEUE, the interval from SCHEDULER_TICK_SECONDS (NOTIFY_TICK_SECONDS is still read), both
environment variables.
"""

import os

from rq import cron

from returns_service.worker import scheduled_tick

_SECONDS = os.environ.get("SCHEDULER_TICK_SECONDS") or os.environ.get("NOTIFY_TICK_SECONDS")
cron.register(scheduled_tick, os.environ.get("RQ_QUEUE") or "returns",
              interval=int(_SECONDS or 300), job_timeout=600)
