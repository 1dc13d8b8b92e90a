"""gunicorn settings (``--config python:app.gunicorn_conf``), all from the environment.

``WEB_CONCURRENCY`` (read by gunicorn itself) sets the number of workers; ``PORT`` the
port. With ``PROMETHEUS_MULTIPROC_DIR`` set, dead workers' metrics are cleaned up.

Threaded workers (``gthread``, ``WEB_THREADS`` threads each, default 4): a page waiting
on a slow Mijnwebwinkel or e-Boekhouden holds one thread, not the worker, so /healthz
and the other pages keep answering. The pages' own upstream calls time out after
``WEB_UPSTREAM_TIMEOUT_SECONDS`` (app/config.py), well under ``timeout``.
"""

import os

bind = f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '5000')}"
accesslog = "-"
errorlog = "-"
worker_class = "gthread"
threads = max(1, int(os.environ.get("WEB_THREADS", "4")))
timeout = 30
graceful_timeout = 20
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
