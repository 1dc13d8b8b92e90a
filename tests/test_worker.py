"""``python -m worker`` in its default, non-forking mode stops like RQ's HerokuWorker on
SIGTERM: an idle worker exits at once; a running job gets a few seconds, then is
interrupted and handed to RQ's Retry (requeued), well inside a platform's 30 s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from app.config import BOOKING_RETRY_INTERVALS
from app.queue import booking_job_id, enqueue_booking
from tests.helpers import SERVICES_AVAILABLE, World, booking_row

pytestmark = pytest.mark.skipif(
    not SERVICES_AVAILABLE, reason="needs the local PostgreSQL and Redis"
)


def _start_worker(world: World) -> subprocess.Popen[bytes]:
    if not world.settings.database_url.startswith("postgresql"):
        pytest.skip("a second process needs the shared PostgreSQL and Redis")
    kw = world.services.redis.connection_pool.connection_kwargs
    env = {
        **os.environ,
        "DATABASE_URL": world.settings.database_url,
        "REDIS_URL": f"redis://{kw['host']}:{kw['port']}/{kw['db']}",
        "ENCRYPTION_KEY": world.settings.encryption_key,
        "MIJNWEBWINKEL_API_URL": world.mww_url,
        "EBOEKHOUDEN_SOAP_URL": world.settings.eboekhouden_soap_url,
        "QUEUE_NAME": world.settings.queue_name,
        "WORKER_MODE": "simple",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    from rq import Worker

    deadline = time.monotonic() + 60
    while not Worker.all(connection=world.services.redis):
        assert process.poll() is None, "worker exited at start"
        assert time.monotonic() < deadline, "worker did not register"
        time.sleep(0.1)
    # RQ registers the worker before it starts its scheduler and installs its signal
    # handlers: give it that moment (a platform's SIGTERM comes much later).
    time.sleep(3)
    return process


def _wait(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_idle_worker_exits_on_sigterm(world: World) -> None:
    process = _start_worker(world)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0


def test_sigterm_during_a_slow_job_requeues_it_within_the_grace(world: World) -> None:
    world.add_order(6201)
    world.eb.faults.add("latency", operation="AddMutatie", times=1, seconds=25)
    process = _start_worker(world)
    try:
        enqueue_booking(world.services.queue, world.shop.id, "6201", source="webhook")
        _wait(lambda: world.services.store.bookings.counts(world.shop.id).get("posting"), 30)
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=25)
        assert time.monotonic() - sent < 15  # the job's 6 s, then out: inside 30 s
    finally:
        if process.poll() is None:
            process.kill()
    job = Job.fetch(
        booking_job_id(world.shop.id, "6201"),
        connection=world.services.redis,
        serializer=JSONSerializer,
    )
    # Interrupted, not lost: RQ's Retry has it again (scheduled, or queued at once).
    assert job.get_status() in (JobStatus.SCHEDULED, JobStatus.QUEUED)
    assert job.retries_left == len(BOOKING_RETRY_INTERVALS) - 1
    # The ledger still holds the claim: the lease and the look-up cover the repost.
    assert booking_row(world, 6201).state == "posting"


def test_the_worker_renews_its_key_every_few_seconds_not_three_times_a_job() -> None:
    """BookingWorker.heartbeat: RQ's heartbeats outside a pipeline are sent at most every
    ``heartbeat_every`` seconds; those with their own timeout or pipeline always."""
    import datetime as dt

    import fakeredis
    from rq import Queue

    from worker.workers import BookingWorker

    redis = fakeredis.FakeRedis()
    worker = BookingWorker([Queue("q", connection=redis)], connection=redis)
    sent: list[str] = []
    real_pipeline = redis.pipeline

    def counting_pipeline(*args: object, **kwargs: object) -> object:
        sent.append("pipeline")
        return real_pipeline(*args, **kwargs)  # type: ignore[arg-type]

    redis.pipeline = counting_pipeline  # type: ignore[method-assign]
    worker.heartbeat()
    assert sent == ["pipeline"] and redis.ttl(worker.key) > 400
    worker.heartbeat()
    worker.heartbeat()
    assert sent == ["pipeline"]  # within heartbeat_every: nothing sent
    worker.heartbeat(timeout=900)  # an explicit timeout always goes out
    assert redis.ttl(worker.key) > 800
    worker.last_heartbeat -= dt.timedelta(seconds=worker.heartbeat_every + 1)
    worker.heartbeat()
    assert sent == ["pipeline", "pipeline"]


def test_the_worker_skips_redundant_state_writes_and_checks_suspension_once_a_second() -> None:
    import fakeredis
    from rq import Queue
    from rq.exceptions import StopRequested
    from rq.suspension import suspend

    from worker.workers import BookingWorker

    redis = fakeredis.FakeRedis()
    worker = BookingWorker([Queue("q", connection=redis)], connection=redis)
    worker.set_state("idle")
    assert redis.hget(worker.key, "state") == b"idle"
    redis.hset(worker.key, "state", "marker")
    worker.set_state("idle")  # unchanged: not written again
    assert redis.hget(worker.key, "state") == b"marker"
    worker.set_state("busy")
    assert redis.hget(worker.key, "state") == b"busy"
    worker.check_for_suspension(burst=True)  # not suspended: checked, goes on
    suspend(redis)
    worker.check_for_suspension(burst=True)  # within the second: not asked again
    worker._suspension_checked -= worker.suspension_check_every
    with pytest.raises(StopRequested):  # suspended in burst mode: RQ stops the worker
        worker.check_for_suspension(burst=True)
