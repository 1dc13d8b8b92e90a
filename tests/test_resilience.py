"""Issue 15 point 6: the clock and the worker survive a Redis restart (a real
redis-server of the test's own, killed and started again empty on the same port)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from rq import Queue
from rq.job import JobStatus
from rq.serializers import JSONSerializer

from app.config import Settings
from app.crypto import generate_key
from app.jobs.queue import get_queue, reconcile_key
from app.services import build_services
from app.states import ShopStatus
from app.store.shops import Credentials
from reconciler.schedule import run_clock
from tests.helpers import Backend, OwnRedis

ROOT = Path(__file__).resolve().parent.parent


def wait_for(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def test_clock_survives_a_redis_restart_and_enqueues_again(
    tmp_path: Path, embedded_backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    redis = OwnRedis(tmp_path).start()
    settings = Settings(
        database_url=embedded_backend.database_url,
        redis_url=redis.url,
        encryption_key=generate_key(),
        poll_interval_seconds=1,
        reconcile_interval_seconds=0,
    )
    services = build_services(settings)
    shop_id, _ = services.store.shops.register(
        name="Klokwinkel",
        status=ShopStatus.ACTIVE,
        credentials=Credentials("tok-klok", "klok", "c1", "c2"),
    )
    queue = get_queue(redis.client(), settings.queue_name)

    def poll_queued() -> bool:
        prefix = reconcile_key(shop_id, "poll") + "__"
        return any(job_id.startswith(prefix) for job_id in queue.get_job_ids())

    stopping = threading.Event()
    clock = threading.Thread(
        target=run_clock,
        args=(services,),
        kwargs={"tick_seconds": 0.2, "stop": stopping.is_set, "max_backoff": 0.5},
        daemon=True,
    )
    try:
        clock.start()
        wait_for(poll_queued, 10, "the clock's first poll pass")
        redis.kill()
        wait_for(  # ticks against a Redis that is not there
            lambda: any("Redis unavailable" in r.getMessage() for r in caplog.records),
            10,
            "the clock to meet the outage",
        )
        assert clock.is_alive(), "the clock died when Redis went away"
        redis.start()  # empty: the queue and the slot keys are gone
        assert not poll_queued()
        wait_for(poll_queued, 10, "a poll pass enqueued after the restart")
        assert clock.is_alive()
        assert any("Redis unavailable" in r.getMessage() for r in caplog.records)
    finally:
        stopping.set()
        clock.join(timeout=5)
        redis.kill()
        services.close()
        services.engine.dispose()
    assert not clock.is_alive(), "the clock does not stop when asked"


def test_worker_process_survives_a_redis_restart_in_the_middle_of_a_job(
    tmp_path: Path, sqlite_url: str
) -> None:
    redis = OwnRedis(tmp_path).start()
    env = {k: v for k, v in os.environ.items() if k not in ("APP_ENV", "DATABASE_URL")}
    env.update(
        REDIS_URL=redis.url,
        DATABASE_URL=sqlite_url,
        PYTHONPATH=str(ROOT),
        ENCRYPTION_KEY=generate_key(),
        LOG_LEVEL="INFO",
    )
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        queue = Queue("bookings", connection=redis.client(), serializer=JSONSerializer)
        # A job that is running when Redis goes away: RQ's own loop then quits.
        slow = queue.enqueue("time.sleep", 1)
        wait_for(
            lambda: slow.get_status(refresh=True) == JobStatus.STARTED,
            30,
            "the worker to start the slow job",
        )
        redis.kill()
        wait_for(  # the job ended while Redis was away; the process waits for it
            lambda: "Redis unavailable" in log_path.read_text(errors="replace"),
            30,
            "the worker to find Redis gone",
        )
        redis.start()
        wait_for(
            lambda: "Redis answers again" in log_path.read_text(errors="replace"),
            30,
            "the worker to start a new RQ worker",
        )
        assert worker.poll() is None, (
            "the worker exited after a Redis restart:\n" + log_path.read_text()[-3000:]
        )
        queue = Queue("bookings", connection=redis.client(), serializer=JSONSerializer)
        job = queue.enqueue("builtins.len", "abc")
        wait_for(
            lambda: job.get_status(refresh=True) == JobStatus.FINISHED,
            40,
            "a job enqueued after the restart to be done",
        )
        assert job.return_value() == 3
        assert worker.poll() is None
    finally:
        if worker.poll() is None:
            worker.terminate()
        worker.wait(timeout=30)
        redis.kill()
    assert worker.returncode == 0, log_path.read_text()[-3000:]
