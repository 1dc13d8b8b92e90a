"""Enqueueing booking jobs: one place for the job id, serializer, timeouts and retries.

RQ does not deduplicate on job ids, and correctness never relies on it: the ledger makes
a second run of the same job a no-op. We only avoid piling up a job that is already
waiting in the queue.
"""

from __future__ import annotations

import datetime as dt
import re

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from app.config import (
    BOOKING_FAILURE_TTL,
    BOOKING_JOB_TIMEOUT,
    BOOKING_RESULT_TTL,
    BOOKING_RETRY_INTERVALS,
    SCHEDULER_GRACE_SECONDS,
)

BOOK_ORDER = "worker.jobs.book_order_job"
RECONCILE_SHOP = "worker.jobs.reconcile_shop_job"


def get_queue(redis: Redis, name: str) -> Queue:
    return Queue(name, connection=redis, serializer=JSONSerializer)


def booking_job_id(shop_id: int, order_number: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", order_number)
    return f"book-{shop_id}-{safe}"


def enqueue_booking(queue: Queue, shop_id: int, order_number: str, *, source: str) -> bool:
    """Enqueue ``book_order``; False if that job is already waiting to run."""
    job_id = booking_job_id(shop_id, order_number)
    try:
        existing = Job.fetch(job_id, connection=queue.connection, serializer=JSONSerializer)
        status = existing.get_status(refresh=False)
        if status in (JobStatus.QUEUED, JobStatus.DEFERRED):
            return False
        if status == JobStatus.SCHEDULED:
            if not _overdue(queue, job_id):
                return False
            # Its retry time passed long ago: no scheduler is running it (its worker was
            # killed holding RQ's scheduler lock, and RQ only retries taking that lock
            # every 10 minutes). Run it now instead.
            queue.scheduled_job_registry.remove(job_id)
    except NoSuchJobError:
        pass
    queue.enqueue(
        BOOK_ORDER, shop_id, order_number,
        job_id=job_id,
        retry=Retry(max=len(BOOKING_RETRY_INTERVALS), interval=list(BOOKING_RETRY_INTERVALS)),
        job_timeout=BOOKING_JOB_TIMEOUT,
        result_ttl=BOOKING_RESULT_TTL,
        failure_ttl=BOOKING_FAILURE_TTL,
        meta={"source": source},
        description=f"book order {order_number} of shop {shop_id} ({source})",
    )
    return True


def _overdue(queue: Queue, job_id: str) -> bool:
    try:
        at = queue.scheduled_job_registry.get_scheduled_time(job_id)
    except NoSuchJobError:  # scheduled, but in no registry: nothing will ever run it
        return True
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return (dt.datetime.now(dt.UTC) - at).total_seconds() > SCHEDULER_GRACE_SECONDS
