"""Every enqueue of the service, on RQ's public API: booking, reconcile pass, backfill,
alert digest and the period report (on its own queue). The job functions themselves live
in worker/jobs.py and are named here by dotted path, so ``app`` never imports ``worker``.

Not piling up: RQ runs whatever is pushed, and the SQL register makes a second run of a
booking a no-op, so correctness never relies on deduplication. We only avoid queueing a
job whose twin is already waiting: before ``Queue.enqueue`` a *waiting mark*
(``mww:waiting:<key>``) is set with ``SET NX``. The job clears its mark when it starts
(so a notification that arrives while it runs queues a fresh look at the order), and a
booking that fails and will be retried sets it again for the retry's wait (so the passes
do not add a job per failing order every few minutes). A mark lives at most
``WAITING_TTL``: a lost enqueue or a dead scheduler costs a late booking, never a missed
one (the next pass queues it again).

The notification endpoint's ``webhook-id`` dedupe is taken together with the mark, in
one script over our own two keys; the job is then enqueued by RQ itself, into a pipeline
of ours (``Queue.enqueue(..., pipeline=)``), with the caller's own commands (the poll
schedule's wake). Two Redis round trips per notification (tests/test_rq_contract.py pins
the RQ behaviour this relies on)."""

from __future__ import annotations

import contextlib
import hashlib
import re
import uuid
from collections.abc import Callable
from typing import Any, cast

from redis import Redis
from redis.client import Pipeline
from redis.commands.core import Script
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer

from app.config import (
    BACKFILL_PROGRESS_TTL,
    BOOKING_FAILURE_TTL,
    BOOKING_JOB_TIMEOUT,
    BOOKING_RESULT_TTL,
    BOOKING_RETRY_INTERVALS,
    RECONCILE_FAILURE_TTL,
    RECONCILE_JOB_TIMEOUT,
    RECONCILE_RESULT_TTL,
    REPORT_JOB_TIMEOUT,
    REPORT_PROGRESS_TTL,
    SCHEDULER_GRACE_SECONDS,
    WAITING_TTL,
    WEBHOOK_ID_TTL,
)

BOOK_ORDER = "worker.jobs.book_order_job"
RECONCILE_SHOP = "worker.jobs.reconcile_shop_job"
BACKFILL_SHOP = "worker.jobs.backfill_shop_job"
ALERT_DIGEST = "worker.jobs.alert_digest_job"
REPORT_SHOP = "worker.jobs.report_job"

# KEYS: 1 the webhook-id key ("" for none), 2 the waiting mark. ARGV: 1 webhook-id TTL,
# 2 the mark's TTL. Answers 0: webhook-id seen before; 1: a twin is waiting; 2: go on.
_MARK_LUA = """
if KEYS[1] ~= '' then
  if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
end
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then return 1 end
return 2
"""
DUPLICATE, WAITING, GO = 0, 1, 2
_script: Script | None = None


Also = Callable[[Pipeline], None] | None  # a caller's commands for the enqueue's pipeline


def get_queue(redis: Redis, name: str) -> Queue:
    return Queue(name, connection=redis, serializer=JSONSerializer)


def report_queue_name(name: str) -> str:
    """The period reports' queue beside a bookings queue: a worker takes it after the
    bookings (``python -m worker`` listens to both), so a long report never waits in
    front of a booking."""
    return f"{name}-reports"


def report_queue(redis: Redis, name: str) -> Queue:
    return get_queue(redis, report_queue_name(name))


def booking_key(shop_id: int, order_number: str) -> str:
    """What names one order's booking job (its mark, and the start of its RQ job ids)."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", order_number)
    return f"book-{shop_id}-{safe}"


def reconcile_key(shop_id: int, mode: str) -> str:
    return f"reconcile-{shop_id}-{mode}"


def waiting_key(key: str) -> str:
    return f"mww:waiting:{key}"


def webhook_key(shop_id: int, webhook_id: str) -> str:
    """Where a seen ``webhook-id`` is remembered for ``WEBHOOK_ID_TTL``: by a digest, so
    every id costs the same ~120 bytes of Redis however long the sender made it."""
    digest = hashlib.sha256(webhook_id.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return f"mww:webhook-id:{shop_id}:{digest}"


def _job_id(key: str) -> str:
    """A fresh RQ job id per enqueue: readable in the dashboard, never reused (RQ
    overwrites a job hash saved under an id it already has)."""
    return f"{key}__{uuid.uuid4().hex[:12]}"


def _mark(redis: Redis, key: str, webhook: str = "") -> int:
    global _script
    if _script is None:  # EVALSHA; redis-py loads the script on a NOSCRIPT answer
        _script = cast(Script, redis.register_script(_MARK_LUA))
    keys = [webhook, waiting_key(key)]
    return int(_script(keys=keys, args=[WEBHOOK_ID_TTL, WAITING_TTL], client=redis))


def _unmark(redis: Redis, *keys: str) -> None:
    # Redis is what failed: if this fails too, the marks expire and the passes catch up.
    with contextlib.suppress(RedisError):
        redis.delete(*keys)


def _enqueue_marked(
    queue: Queue,
    key: str,
    func: str,
    args: tuple[Any, ...],
    webhook: str = "",
    also: Also = None,
    **options: Any,
) -> int:
    answer = _mark(queue.connection, key, webhook)
    if answer != GO:
        return answer
    try:
        # RQ adds the job to our pipeline (one round trip instead of its own two), and so
        # may the caller (``also``: a notification wakes the shop's poll schedule).
        pipe = queue.connection.pipeline()
        queue.enqueue(func, *args, job_id=_job_id(key), pipeline=pipe, **options)
        if also is not None:
            also(pipe)
        pipe.execute()
    except RedisError:
        _unmark(queue.connection, waiting_key(key), *([webhook] if webhook else []))
        raise
    return GO


def _booking_options(shop_id: int, order_number: str, source: str) -> dict[str, Any]:
    return dict(
        retry=Retry(max=len(BOOKING_RETRY_INTERVALS), interval=list(BOOKING_RETRY_INTERVALS)),
        job_timeout=BOOKING_JOB_TIMEOUT,
        result_ttl=BOOKING_RESULT_TTL,
        failure_ttl=BOOKING_FAILURE_TTL,
        meta={"source": source},
        description=f"book order {order_number} of shop {shop_id} ({source})",
    )


def enqueue_booking(
    queue: Queue, shop_id: int, order_number: str, *, source: str, on_request: bool = False
) -> bool:
    """Enqueue ``book_order``; False if that order's job is already waiting to run.
    ``on_request``: a person asked for this order (it is booked even when placed before
    the shop's start date)."""
    answer = _enqueue_marked(
        queue,
        booking_key(shop_id, order_number),
        BOOK_ORDER,
        (shop_id, order_number, True) if on_request else (shop_id, order_number),
        **_booking_options(shop_id, order_number, source),
    )
    return answer == GO


def queue_notification(
    queue: Queue, shop_id: int, webhook_id: str, order_number: str, also: Also = None
) -> str:
    """``"duplicate"`` if this ``webhook-id`` was seen for the shop, else ``"queued"``
    (enqueued now, or its job was already waiting). ``also`` adds commands of the
    caller's to the enqueue's round trip (only when a job is enqueued). When it raises
    ``RedisError`` the id is forgotten again (best effort), so the sender's retry is not
    taken for a duplicate."""
    answer = _enqueue_marked(
        queue,
        booking_key(shop_id, order_number),
        BOOK_ORDER,
        (shop_id, order_number),
        webhook=webhook_key(shop_id, webhook_id),
        also=also,
        **_booking_options(shop_id, order_number, "webhook"),
    )
    return "duplicate" if answer == DUPLICATE else "queued"


def booking_started(redis: Redis, shop_id: int, order_number: str) -> None:
    """The job runs: a notification from now on queues a fresh look at the order."""
    _unmark(redis, waiting_key(booking_key(shop_id, order_number)))


def booking_will_retry(redis: Redis, job: Job | None, shop_id: int, order_number: str) -> None:
    """The job failed and RQ will retry it: mark it waiting for that retry's interval
    (plus the scheduler's grace), so the passes do not queue it a second time."""
    left = job.retries_left if job is not None else None
    if not left:
        return
    done = len(BOOKING_RETRY_INTERVALS) - left
    interval = BOOKING_RETRY_INTERVALS[min(max(done, 0), len(BOOKING_RETRY_INTERVALS) - 1)]
    with contextlib.suppress(RedisError):
        redis.set(
            waiting_key(booking_key(shop_id, order_number)),
            "1",
            ex=interval + SCHEDULER_GRACE_SECONDS,
        )


def enqueue_reconcile(queue: Queue, shop_id: int, mode: str) -> bool:
    """One reconcile pass of one shop; False if one of that mode is already waiting."""
    answer = _enqueue_marked(
        queue,
        reconcile_key(shop_id, mode),
        RECONCILE_SHOP,
        (shop_id, mode),
        job_timeout=RECONCILE_JOB_TIMEOUT,
        result_ttl=RECONCILE_RESULT_TTL,
        failure_ttl=RECONCILE_FAILURE_TTL,
        description=f"{mode} reconcile of shop {shop_id}",
    )
    return answer == GO


def reconcile_started(redis: Redis, shop_id: int, mode: str) -> None:
    _unmark(redis, waiting_key(reconcile_key(shop_id, mode)))


def enqueue_backfill(queue: Queue, shop_id: int, since: str) -> str:
    """The backfill job ("Bestellingen vanaf"); app.booking.backfill guards against two.
    Returns its RQ job id (``job_state`` follows it)."""
    job = queue.enqueue(
        BACKFILL_SHOP,
        shop_id,
        since,
        job_id=_job_id(f"backfill-{shop_id}"),
        job_timeout=RECONCILE_JOB_TIMEOUT,
        result_ttl=BACKFILL_PROGRESS_TTL,
        failure_ttl=RECONCILE_FAILURE_TTL,
        description=f"backfill of shop {shop_id}",
    )
    return str(job.id)


def job_state(queue: Queue, job_id: str) -> str | None:
    """An RQ job's status (``queued``, ``started``, ``finished``, ``failed`` …), or None
    when RQ no longer has it (expired, deleted, or lost with Redis)."""
    try:
        return str(
            Job.fetch(job_id, connection=queue.connection, serializer=JSONSerializer).get_status()
        )
    except NoSuchJobError:
        return None


def enqueue_alert_digest(queue: Queue) -> None:
    """The hourly failure digest (the clock's alert slot makes it once an hour)."""
    queue.enqueue(
        ALERT_DIGEST,
        job_id=_job_id("alert-digest"),
        job_timeout=RECONCILE_JOB_TIMEOUT,
        result_ttl=RECONCILE_RESULT_TTL,
        failure_ttl=RECONCILE_FAILURE_TTL,
        description="alert digest",
    )


def enqueue_report(
    queue: Queue, shop_id: int, period_key: str, books: bool, report_key: str
) -> None:
    """The period report ("Controle"); app.report.runs guards against two per key."""
    queue.enqueue(
        REPORT_SHOP,
        shop_id,
        period_key,
        books,
        report_key,
        job_id=_job_id(f"report-{shop_id}"),
        job_timeout=REPORT_JOB_TIMEOUT,
        result_ttl=REPORT_PROGRESS_TTL,
        failure_ttl=REPORT_PROGRESS_TTL,
        description=f"period report {period_key} of shop {shop_id}",
    )
