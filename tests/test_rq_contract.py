"""What the service relies on from RQ, pinned per RQ version.

app/jobs/queue.py enqueues through ``Queue.enqueue`` only, and app/jobs/workers.py extends
one hook of ``SimpleWorker``. An RQ upgrade must keep these behaviours; when this file
fails after one, read the RQ changelog for the failing point before changing our code.
Run on both backends (fakeredis and the local Redis).
"""

from __future__ import annotations

import datetime as dt
import signal
from collections.abc import Iterator
from typing import Any

import pytest
import rq
from rq import Queue, Retry, SimpleWorker, get_current_job
from rq.exceptions import ShutDownImminentException, StopRequested
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from rq.worker import WorkerStatus

from tests.helpers import Backend

# The RQ releases (major.minor) this file has been run against. After an upgrade: run it,
# read what fails, then add the new release here.
CHECKED = ("3.0",)
HERE = "tests.test_rq_contract"


def succeed(value: int) -> dict[str, int]:
    return {"value": value}


def fail_and_tell(key: str) -> None:
    """Records ``retries_left`` as the job sees it while running, then fails."""
    job = get_current_job()
    assert job is not None
    job.connection.rpush(key, str(job.retries_left))
    raise RuntimeError("upstream down")


def shut_down_imminent() -> None:
    raise ShutDownImminentException("shut down imminent (signal: SIGRTMIN)", {})


@pytest.fixture
def queue(backend: Backend) -> Iterator[Queue]:
    yield Queue("contract", connection=backend.redis, serializer=JSONSerializer)


def _work(queue: Queue) -> None:
    SimpleWorker([queue], connection=queue.connection, serializer=JSONSerializer).work(burst=True)


def test_the_installed_rq_has_been_checked() -> None:
    release = ".".join(rq.VERSION.split(".")[:2])
    assert release in CHECKED, f"RQ {rq.VERSION}: run tests/test_rq_contract.py, then add it"


def test_enqueue_keeps_the_id_and_options_we_pass(queue: Queue) -> None:
    job = queue.enqueue(
        f"{HERE}.succeed",
        7,
        job_id="book-1-7__abc",
        retry=Retry(max=2, interval=[10, 30]),
        job_timeout=300,
        result_ttl=600,
        failure_ttl=3600,
        meta={"source": "webhook"},
        description="book order 7",
    )
    again = Job.fetch("book-1-7__abc", connection=queue.connection, serializer=JSONSerializer)
    assert (again.func_name, again.args, again.get_status()) == (
        f"{HERE}.succeed",
        [7],
        JobStatus.QUEUED,
    )
    assert (again.timeout, again.result_ttl, again.failure_ttl) == (300, 600, 3600)
    assert (again.retries_left, again.retry_intervals) == (2, [10, 30])
    assert again.meta == {"source": "webhook"} and again.description == "book order 7"
    assert queue.job_ids == [job.id]


def test_enqueue_into_our_pipeline_writes_nothing_until_it_runs(queue: Queue) -> None:
    """app.jobs.queue passes its own pipeline: RQ adds the job to it and sends nothing."""
    pipe = queue.connection.pipeline()
    job = queue.enqueue(f"{HERE}.succeed", 5, job_id="book-1-5__abc", pipeline=pipe)
    assert queue.count == 0 and not Job.exists(job.id, connection=queue.connection)
    pipe.execute()
    assert queue.job_ids == [job.id]
    again = Job.fetch(job.id, connection=queue.connection, serializer=JSONSerializer)
    assert again.get_status() == JobStatus.QUEUED and again.args == [5]


def test_a_simple_worker_runs_the_job_in_its_own_process(queue: Queue) -> None:
    job = queue.enqueue(f"{HERE}.succeed", 3)
    _work(queue)
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED and job.return_value() == {"value": 3}
    assert job.id in queue.finished_job_registry.get_job_ids()


def test_a_failing_job_is_scheduled_by_its_retry_with_its_interval(queue: Queue) -> None:
    """app.jobs.queue.booking_will_retry reads ``retries_left`` inside the failing job:
    it is the count *before* this failure, and RQ schedules the retry after
    ``interval[max - retries_left]``."""
    before = dt.datetime.now(dt.UTC)
    job = queue.enqueue(f"{HERE}.fail_and_tell", "seen", retry=Retry(max=3, interval=[10, 30, 60]))
    _work(queue)
    job.refresh()
    assert queue.connection.lrange("seen", 0, -1) == [b"3"]
    assert job.get_status() == JobStatus.SCHEDULED and job.retries_left == 2
    registry = queue.scheduled_job_registry
    assert registry.get_job_ids() == [job.id]
    at = registry.get_scheduled_time(job)
    assert dt.timedelta(seconds=9) <= at - before <= dt.timedelta(seconds=12)


def test_a_job_without_retries_left_fails_for_good(queue: Queue) -> None:
    job = queue.enqueue(f"{HERE}.fail_and_tell", "seen-last")
    _work(queue)
    job.refresh()
    assert queue.connection.lrange("seen-last", 0, -1) == [b"None"]  # no Retry at all
    assert job.get_status() == JobStatus.FAILED
    assert job.id in queue.failed_job_registry.get_job_ids()


def test_shutdown_imminent_raised_inside_a_job_goes_to_its_retry(queue: Queue) -> None:
    """BookingWorker raises ShutDownImminentException in a job that outlives the grace
    after SIGTERM; RQ must treat it as a failure its Retry takes over."""
    job = queue.enqueue(f"{HERE}.shut_down_imminent", retry=Retry(max=1, interval=10))
    _work(queue)
    job.refresh()
    assert job.get_status() == JobStatus.SCHEDULED and job.retries_left == 0


def test_sigterm_calls_the_warm_shutdown_hook(queue: Queue) -> None:
    """``request_stop`` (RQ's SIGTERM handler) calls ``handle_warm_shutdown_request``,
    the one hook BookingWorker extends; a busy worker stops after its job."""
    calls: list[str] = []

    class Recording(SimpleWorker):
        def handle_warm_shutdown_request(self) -> None:
            calls.append(self.get_state())
            super().handle_warm_shutdown_request()

    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        idle: Any = Recording([queue], connection=queue.connection)
        with pytest.raises(StopRequested):
            idle.request_stop(signal.SIGTERM, None)
        busy: Any = Recording([queue], connection=queue.connection)
        busy.set_state(WorkerStatus.BUSY)
        busy.request_stop(signal.SIGTERM, None)  # no StopRequested: the job goes on
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    assert len(calls) == 2 and calls[1] == WorkerStatus.BUSY
