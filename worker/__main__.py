"""`python -m worker`: an RQ worker (with its scheduler, needed for retries).

``WORKER_MODE=simple`` (default) runs jobs in this process; ``fork`` runs RQ's
HerokuWorker, a work horse per job. worker/workers.py says why.
"""

from __future__ import annotations

import os
import sys

from redis import Redis
from rq.serializers import JSONSerializer

from app.config import Settings
from app.errors import ConfigError
from app.logs import configure_logging


def main() -> int:
    try:
        settings = Settings.from_env()
    except ConfigError as err:
        print(f"worker: {err}", file=sys.stderr)
        return 2
    configure_logging(settings)
    from worker.workers import worker_class

    try:
        worker_type = worker_class(os.environ.get("WORKER_MODE", "simple"))
    except ValueError as err:
        print(f"worker: {err}", file=sys.stderr)
        return 2
    # Parse the WSDL once here: every job (or forked work horse) reuses it.
    from app.clients.eboekhouden import preload_wsdl
    from worker.jobs import runtime_services

    preload_wsdl()
    runtime_services()  # built once here; every job (or forked horse) reuses it
    redis = Redis.from_url(settings.redis_url)
    queues = [q.strip() for q in sys.argv[1:]] or [settings.queue_name]
    worker = worker_type(queues, connection=redis, serializer=JSONSerializer)
    try:
        worker.work(with_scheduler=True)
    finally:
        runtime_services().close()  # CloseSession for any session this process opened
    return 0


if __name__ == "__main__":
    sys.exit(main())
