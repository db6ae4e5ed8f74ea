"""Config for RQ's cron scheduler: run the notification tick every five minutes.

    rq cron returns_service/notifications/cron.py --url "$REDIS_URL"

(with a worker on the same queue: `flask --app wsgi worker`). The queue name comes from
RQ_QUEUE, the interval from NOTIFY_TICK_SECONDS (both environment variables).
"""

import os

from rq import cron

from returns_service.notifications.jobs import scheduled_tick

cron.register(scheduled_tick, os.environ.get("RQ_QUEUE") or "returns",
              interval=int(os.environ.get("NOTIFY_TICK_SECONDS") or 300), job_timeout=600)
