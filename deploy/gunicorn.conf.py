"""gunicorn settings for the web process (`gunicorn --config deploy/gunicorn.conf.py wsgi:app`).

Each value can be set from the environment, so the same file serves a laptop, a VM and a
container: HOST/PORT (or BIND), WEB_CONCURRENCY (worker processes), WEB_THREADS,
GUNICORN_TIMEOUT and FORWARDED_ALLOW_IPS (the proxy allowed to set X-Forwarded-* headers).
"""

import multiprocessing
import os

_host, _port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000")
bind = os.environ.get("BIND") or f"{_host}:{_port}"
# The service is CPU-bound per request (the database does the waiting): one process per core,
# plus one so a core is never idle while another process waits on the database.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() + 1)
threads = int(os.environ.get("WEB_THREADS") or 1)
# A request never legitimately runs long (Stripe calls happen in jobs); 30 s is a stuck one.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
# On SIGTERM, requests in flight get this long to finish before the workers are stopped.
graceful_timeout = 30
keepalive = 5
# Headers a very large cookie or URL would bloat; the service's own cookies stay small.
limit_request_field_size = 8190
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Heartbeat files in memory, not on a disk that may stall.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


def child_exit(server: object, worker: object) -> None:
    """Drop a stopped worker's live gauges from the shared metrics folder."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
