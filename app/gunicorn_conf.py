"""gunicorn settings (``--config python:app.gunicorn_conf``), all from the environment.

``WEB_CONCURRENCY`` (read by gunicorn itself) sets the number of workers; ``PORT`` the
port. With ``PROMETHEUS_MULTIPROC_DIR`` set, dead workers' metrics are cleaned up.
"""

import os

bind = f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '5000')}"
accesslog = "-"
errorlog = "-"
timeout = 30
graceful_timeout = 20
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


def on_starting(server):  # type: ignore[no-untyped-def]
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
