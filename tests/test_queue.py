"""app.jobs.queue: every enqueue goes through RQ's own ``Queue.enqueue``; a waiting mark
keeps a job from piling up; the webhook-id dedupe and the mark are one script over our
own keys. (tests/test_rq_contract.py pins the RQ side.)"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from app.config import (
    BOOKING_FAILURE_TTL,
    BOOKING_JOB_TIMEOUT,
    BOOKING_RESULT_TTL,
    BOOKING_RETRY_INTERVALS,
    SCHEDULER_GRACE_SECONDS,
    WAITING_TTL,
    WEBHOOK_ID_TTL,
)
from app.jobs.queue import (
    BOOK_ORDER,
    RECONCILE_SHOP,
    booking_key,
    booking_started,
    booking_will_retry,
    enqueue_booking,
    enqueue_reconcile,
    queue_notification,
    reconcile_started,
    waiting_key,
    webhook_key,
)
from tests.helpers import World, booking_job_ids


def test_a_booking_is_rqs_own_job(world: World) -> None:
    queue = world.services.queue
    assert enqueue_booking(queue, world.shop.id, "7001", source="webhook")
    [job_id] = queue.job_ids
    assert job_id.startswith(booking_key(world.shop.id, "7001") + "__")
    job = Job.fetch(job_id, connection=world.services.redis, serializer=JSONSerializer)
    assert job.func_name == BOOK_ORDER and job.args == [world.shop.id, "7001"]
    assert job.get_status() == JobStatus.QUEUED
    assert job.retries_left == len(BOOKING_RETRY_INTERVALS)
    assert job.retry_intervals == list(BOOKING_RETRY_INTERVALS)
    assert (job.timeout, job.result_ttl, job.failure_ttl) == (
        BOOKING_JOB_TIMEOUT,
        BOOKING_RESULT_TTL,
        BOOKING_FAILURE_TTL,
    )
    assert job.meta == {"source": "webhook"}


def test_a_waiting_job_is_not_piled_up_until_it_starts(world: World) -> None:
    queue, redis = world.services.queue, world.services.redis
    assert enqueue_booking(queue, world.shop.id, "7002", source="webhook")
    assert not enqueue_booking(queue, world.shop.id, "7002", source="hourly")
    assert queue.count == 1
    assert 0 < redis.ttl(waiting_key(booking_key(world.shop.id, "7002"))) <= WAITING_TTL
    # Started: a notification from now on may carry news the running job did not see.
    booking_started(redis, world.shop.id, "7002")
    assert enqueue_booking(queue, world.shop.id, "7002", source="webhook")
    assert len(booking_job_ids(queue, world.shop.id, "7002")) == 2


@pytest.mark.parametrize(
    ("retries_left", "mark_ttl"),
    [
        (len(BOOKING_RETRY_INTERVALS), BOOKING_RETRY_INTERVALS[0] + SCHEDULER_GRACE_SECONDS),
        (1, BOOKING_RETRY_INTERVALS[-1] + SCHEDULER_GRACE_SECONDS),
        (0, None),  # its last try: RQ will not retry, so nothing is waiting
    ],
)
def test_a_job_that_will_be_retried_waits_for_that_retry(
    world: World, retries_left: int, mark_ttl: int | None
) -> None:
    queue, redis = world.services.queue, world.services.redis
    job: Any = SimpleNamespace(retries_left=retries_left)
    booking_will_retry(redis, job, world.shop.id, "7003")
    ttl = redis.ttl(waiting_key(booking_key(world.shop.id, "7003")))
    if mark_ttl is None:
        assert ttl < 0
        assert enqueue_booking(queue, world.shop.id, "7003", source="hourly")
    else:
        assert mark_ttl - 2 <= ttl <= mark_ttl
        assert not enqueue_booking(queue, world.shop.id, "7003", source="hourly")


def test_queue_notification_dedupes_the_webhook_id_with_the_mark(world: World) -> None:
    queue, redis = world.services.queue, world.services.redis
    assert queue_notification(queue, world.shop.id, "msg_1", "7004") == "queued"
    assert queue_notification(queue, world.shop.id, "msg_1", "7004") == "duplicate"
    assert queue_notification(queue, world.shop.id, "msg_2", "7004") == "queued"  # waiting
    assert queue.count == 1
    assert 0 < redis.ttl(webhook_key(world.shop.id, "msg_1")) <= WEBHOOK_ID_TTL
    # A duplicate sets no mark of its own: another order's notification is not held up.
    assert queue_notification(queue, world.shop.id, "msg_1", "7005") == "duplicate"
    assert enqueue_booking(queue, world.shop.id, "7005", source="poll")


def test_a_failed_enqueue_forgets_the_id_and_the_mark(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue, redis = world.services.queue, world.services.redis

    def down(*args: Any, **kwargs: Any) -> None:
        raise RedisConnectionError("gone")

    monkeypatch.setattr(queue, "enqueue", down)  # as if the pipeline's execute failed
    with pytest.raises(RedisConnectionError):
        queue_notification(queue, world.shop.id, "msg_3", "7006")
    assert not redis.exists(webhook_key(world.shop.id, "msg_3"))
    assert not redis.exists(waiting_key(booking_key(world.shop.id, "7006")))
    monkeypatch.undo()
    assert queue_notification(queue, world.shop.id, "msg_3", "7006") == "queued"  # the retry


def test_a_reconcile_pass_is_not_piled_up_either(world: World) -> None:
    queue, redis = world.services.queue, world.services.redis
    assert enqueue_reconcile(queue, world.shop.id, "poll")
    assert not enqueue_reconcile(queue, world.shop.id, "poll")
    assert enqueue_reconcile(queue, world.shop.id, "hourly")  # another mode is another job
    assert queue.count == 2
    job = queue.fetch_job(queue.job_ids[0])
    assert job is not None and job.func_name == RECONCILE_SHOP
    reconcile_started(redis, world.shop.id, "poll")
    assert enqueue_reconcile(queue, world.shop.id, "poll")
