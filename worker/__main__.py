"""`python -m worker`: an RQ HerokuWorker (with its scheduler, needed for retries)."""

from __future__ import annotations

import sys

from redis import Redis
from rq.serializers import JSONSerializer
from rq.worker import HerokuWorker

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
    # Parse the WSDL once here: every forked work horse inherits it.
    from app.clients.eboekhouden import preload_wsdl
    from worker.jobs import runtime_services

    preload_wsdl()
    runtime_services()  # built once here; every forked job inherits it
    redis = Redis.from_url(settings.redis_url)
    queues = [q.strip() for q in sys.argv[1:]] or [settings.queue_name]
    worker = HerokuWorker(queues, connection=redis, serializer=JSONSerializer)
    try:
        worker.work(with_scheduler=True)
    finally:
        runtime_services().close()  # CloseSession for any session this process opened
    return 0


if __name__ == "__main__":
    sys.exit(main())
