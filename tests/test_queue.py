"""app.queue: the one-round-trip enqueue writes what RQ's own enqueue writes, and keeps
its semantics (no pile-up, an overdue scheduled retry runs, webhook-id dedupe)."""

from __future__ import annotations

import datetime as dt

from rq import Retry
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from app.config import (
    BOOKING_FAILURE_TTL,
    BOOKING_JOB_TIMEOUT,
    BOOKING_RESULT_TTL,
    BOOKING_RETRY_INTERVALS,
)
from app.fastpaths import webhook_key
from app.queue import (
    BOOK_ORDER,
    booking_job_id,
    enqueue_booking,
    queue_notification,
)
from tests.helpers import World

VOLATILE = {b"created_at", b"enqueued_at"}


def _hash(world: World, job_id: str) -> dict[bytes, bytes]:
    raw = world.services.redis.hgetall(f"rq:job:{job_id}")
    return {k: v for k, v in raw.items() if k not in VOLATILE}


def test_the_script_writes_the_hash_and_queue_rq_itself_writes(world: World) -> None:
    queue = world.services.queue
    assert enqueue_booking(queue, world.shop.id, "7001", source="webhook")
    ours = _hash(world, booking_job_id(world.shop.id, "7001"))
    world.services.redis.flushdb()
    # RQ's own path, as app.queue did it before the script: the pipelines it replaces.
    reference = queue.enqueue(
        BOOK_ORDER,
        world.shop.id,
        "7001",
        job_id=booking_job_id(world.shop.id, "7001"),
        retry=Retry(max=len(BOOKING_RETRY_INTERVALS), interval=list(BOOKING_RETRY_INTERVALS)),
        job_timeout=BOOKING_JOB_TIMEOUT,
        result_ttl=BOOKING_RESULT_TTL,
        failure_ttl=BOOKING_FAILURE_TTL,
        meta={"source": "webhook"},
        description=f"book order 7001 of shop {world.shop.id} (webhook)",
    )
    assert _hash(world, reference.id) == ours
    job = Job.fetch(reference.id, connection=world.services.redis, serializer=JSONSerializer)
    assert job.func_name == BOOK_ORDER and job.args == [world.shop.id, "7001"]
    assert job.get_status() == JobStatus.QUEUED and job.retries_left == len(BOOKING_RETRY_INTERVALS)
    assert queue.job_ids == [reference.id]


def test_a_waiting_job_is_not_piled_up(world: World) -> None:
    queue = world.services.queue
    assert enqueue_booking(queue, world.shop.id, "7002", source="webhook")
    assert not enqueue_booking(queue, world.shop.id, "7002", source="hourly")
    assert queue.count == 1


def test_a_scheduled_retry_waits_unless_long_overdue(world: World) -> None:
    queue, redis = world.services.queue, world.services.redis
    job_id = booking_job_id(world.shop.id, "7003")
    assert enqueue_booking(queue, world.shop.id, "7003", source="webhook")
    redis.delete(queue.key)
    job = Job.fetch(job_id, connection=redis, serializer=JSONSerializer)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    queue.schedule_job(job, soon)
    assert not enqueue_booking(queue, world.shop.id, "7003", source="hourly")
    assert queue.count == 0
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    queue.schedule_job(job, long_ago)
    assert enqueue_booking(queue, world.shop.id, "7003", source="hourly")
    assert queue.job_ids == [job_id]
    assert job_id not in queue.scheduled_job_registry.get_job_ids()


def test_queue_notification_dedupes_the_webhook_id_in_the_same_call(world: World) -> None:
    queue, redis = world.services.queue, world.services.redis
    assert queue_notification(queue, world.shop.id, "msg_1", "7004") == "queued"
    assert queue_notification(queue, world.shop.id, "msg_1", "7004") == "duplicate"
    assert queue_notification(queue, world.shop.id, "msg_2", "7004") == "queued"  # waiting
    assert queue.count == 1
    assert 0 < redis.ttl(webhook_key(world.shop.id, "msg_1")) <= 73 * 3600


def test_a_lost_template_is_stored_again_and_the_call_goes_through(world: World) -> None:
    queue, redis = world.services.queue, world.services.redis
    assert enqueue_booking(queue, world.shop.id, "7005", source="webhook")
    for key in redis.scan_iter("mww:rq-job-template:*"):
        redis.delete(key)
    assert queue_notification(queue, world.shop.id, "msg_9", "7006") == "queued"
    assert queue.count == 2 and list(redis.scan_iter("mww:rq-job-template:*"))
