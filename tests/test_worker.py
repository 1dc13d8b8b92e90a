"""``python -m worker`` in its default, non-forking mode stops like RQ's HerokuWorker on
SIGTERM: an idle worker exits at once; a running job gets a few seconds, then is
interrupted and handed to RQ's Retry (requeued), well inside a platform's 30 s.

The worker runs with its grace (``BookingWorker.imminent_shutdown_delay``, 6 s) set to
``GRACE`` so these tests wait a fraction of a second; tests/test_deploy.py stops the real
Procfile worker with its real 6 s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from rq.job import JobStatus

from app.config import BOOKING_RETRY_INTERVALS
from app.jobs.queue import enqueue_booking
from tests.helpers import SERVICES_AVAILABLE, World, booking_jobs, booking_row

pytestmark = pytest.mark.skipif(
    not SERVICES_AVAILABLE, reason="needs the local PostgreSQL and Redis"
)
GRACE = 0.5  # seconds the running job gets after SIGTERM (the real worker: 6)
# ``python -m worker`` with its grace set first (a class attribute of our own worker class).
WORKER = (
    "import runpy, sys; from app.jobs.workers import BookingWorker; "
    "BookingWorker.imminent_shutdown_delay = float(sys.argv.pop(1)); "
    "runpy.run_module('worker', run_name='__main__', alter_sys=True)"
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
        [sys.executable, "-c", WORKER, str(GRACE)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    from rq import Worker
    from rq.worker import WorkerStatus

    # RQ registers the worker before it starts its scheduler and installs its signal
    # handlers; "idle" (waiting for a job) comes after both (a platform's SIGTERM comes
    # much later).
    def idle() -> bool:
        assert process.poll() is None, "worker exited at start"
        workers = Worker.all(connection=world.services.redis)
        return any(w.get_state() == WorkerStatus.IDLE for w in workers)

    _wait(idle, 60)
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
        took = time.monotonic() - sent
        assert GRACE <= took < GRACE + 10  # the job's grace, then out: inside 30 s
    finally:
        if process.poll() is None:
            process.kill()
    [job] = booking_jobs(world.services.queue, world.shop.id, "6201")
    # Interrupted, not lost: RQ's Retry has it again (scheduled, or queued at once).
    assert job.get_status() in (JobStatus.SCHEDULED, JobStatus.QUEUED)
    assert job.retries_left == len(BOOKING_RETRY_INTERVALS) - 1
    # The ledger still holds the claim: the lease and the look-up cover the repost.
    assert booking_row(world, 6201).state == "posting"
