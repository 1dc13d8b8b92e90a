"""`python -m worker`: an RQ worker (with its scheduler, needed for retries).

``WORKER_MODE=simple`` (default) runs jobs in this process; ``fork`` runs RQ's
HerokuWorker, a work horse per job. app/jobs/workers.py says why.

RQ's worker waits out a Redis outage only while it is idle (blocked in BLPOP); one that
meets the outage anywhere else (a job finishing, a heartbeat, its maintenance) logs "found
an unhandled exception, quitting" and returns. ``serve`` then waits for Redis with backoff
and starts a fresh worker, so the process survives a Redis restart; only SIGTERM/SIGINT
end it.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq.serializers import JSONSerializer

from app.config import REDIS_BACKOFF_MAX_SECONDS, Settings
from app.errors import ConfigError
from app.logs import configure_logging

log = logging.getLogger("worker")
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)


class StopAware:
    """Mixed into the worker class: remembers whether it was asked to stop (RQ does not
    say why ``work()`` returned)."""

    stop_was_requested = False

    def request_stop(self, signum: Any, frame: Any) -> None:
        self.stop_was_requested = True
        super().request_stop(signum, frame)  # type: ignore[misc]


def stop_aware(worker_type: type[Any]) -> type[Any]:
    return type(f"StopAware{worker_type.__name__}", (StopAware, worker_type), {})


def serve(
    make_worker: Callable[[], Any], redis: Redis, *, sleep: Callable[[float], None] = time.sleep
) -> int:
    """Run workers until asked to stop; after a Redis outage start a fresh one."""
    stopping: list[bool] = []
    while True:
        worker = make_worker()
        try:
            worker.work(with_scheduler=True)
        except REDIS_DOWN as err:  # raised by its teardown while Redis is still away
            log.warning("worker stopped on a Redis error: %s", err)
        if worker.stop_was_requested:
            return 0
        # Ended by an error, not by a signal: from here a signal only sets a flag.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.append(True))
        if not wait_for_redis(redis, stopping, sleep=sleep):
            return 0
        log.warning("Redis answers again: starting a new worker")


def wait_for_redis(
    redis: Redis, stopping: list[bool], *, sleep: Callable[[float], None] = time.sleep
) -> bool:
    """Ping with backoff (1 s doubling to REDIS_BACKOFF_MAX_SECONDS); False if asked to
    stop first."""
    delay = 1.0
    while not stopping:
        try:
            redis.ping()
            return True
        except REDIS_DOWN as err:
            log.warning("Redis unavailable (%s): next try in %.0f s", err, delay)
        deadline = time.monotonic() + delay
        while not stopping and time.monotonic() < deadline:  # a signal ends the wait soon
            sleep(min(0.5, delay))
        delay = min(delay * 2, REDIS_BACKOFF_MAX_SECONDS)
    return False


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(
        prog="python -m worker",
        description="Run an RQ worker for the booking jobs, with its scheduler (retries). "
        "Settings come from the environment (README, Configuration); WORKER_MODE=simple "
        "(default) runs jobs in this process, fork a work horse per job. SIGTERM or "
        "Ctrl-C stops it after the running job.",
    )
    result.add_argument(
        "queues",
        nargs="*",
        metavar="QUEUE",
        help="the queues to work on, in order (default: QUEUE_NAME, normally bookings)",
    )
    return result


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as err:
        print(f"worker: {err}", file=sys.stderr)
        return 2
    configure_logging(settings)
    from app.jobs.workers import worker_class

    try:
        worker_type = stop_aware(worker_class(os.environ.get("WORKER_MODE", "simple")))
    except ValueError as err:
        print(f"worker: {err}", file=sys.stderr)
        return 2
    # Parse the WSDL once here: every job (or forked work horse) reuses it.
    from app.clients.eboekhouden import preload_wsdl
    from worker.jobs import runtime_services

    preload_wsdl()
    try:
        runtime_services()  # built once here; every job (or forked horse) reuses it
    except ConfigError as err:  # e.g. no ENCRYPTION_KEY in development: one line, no traceback
        print(f"worker: {err}", file=sys.stderr)
        return 2
    redis = Redis.from_url(settings.redis_url)
    from app.jobs.queue import report_queue_name

    # Bookings first, then the period reports (a worker takes queues in this order).
    queues = [q.strip() for q in args.queues if q.strip()] or [
        settings.queue_name,
        report_queue_name(settings.queue_name),
    ]
    try:
        return serve(
            lambda: worker_type(queues, connection=redis, serializer=JSONSerializer), redis
        )
    finally:
        runtime_services().close()  # CloseSession for any session this process opened


if __name__ == "__main__":
    sys.exit(main())
