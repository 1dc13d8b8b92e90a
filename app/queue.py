"""Enqueueing booking jobs: one place for the job id, serializer, timeouts and retries.

RQ does not deduplicate on job ids, and correctness never relies on it: the ledger makes
a second run of the same job a no-op. We only avoid piling up a job that is already
waiting in the queue.

Every enqueue is one Redis round trip: the job is built by RQ itself in Python (its
``to_dict``, so the hash is exactly what ``Queue.enqueue`` would write), and one Lua
script checks the job id, writes the hash and pushes it onto RQ's queue atomically. The
notification endpoint's ``webhook-id`` dedupe rides in the same script.
"""

from __future__ import annotations

import hashlib
import re
import time
import zlib
from typing import Any, cast

from redis import Redis
from redis.commands.core import Script
from rq import Queue, Retry
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from rq.utils import now, utcformat

from app.config import (
    BOOKING_FAILURE_TTL,
    BOOKING_JOB_TIMEOUT,
    BOOKING_RESULT_TTL,
    BOOKING_RETRY_INTERVALS,
    SCHEDULER_GRACE_SECONDS,
    WEBHOOK_ID_TTL,
)
from app.fastpaths import webhook_key

BOOK_ORDER = "worker.jobs.book_order_job"
RECONCILE_SHOP = "worker.jobs.reconcile_shop_job"
BACKFILL_SHOP = "worker.jobs.backfill_shop_job"
ALERT_DIGEST = "worker.jobs.alert_digest_job"

NO_TEMPLATE, DUPLICATE, WAITING, QUEUED = -1, 0, 1, 2  # the script's answers
TEMPLATE_TTL = 30 * 24 * 3600  # refreshed whenever it is found missing
PER_JOB = ("created_at", "enqueued_at", "data", "meta", "description")

# KEYS: 1 webhook-id key ("" for none), 2 job hash, 3 queue list, 4 scheduled registry,
#       5 RQ's set of queues, 6 the template: the job hash's fields that are the same for
#       every booking job (stored once in Redis, so each call sends only the rest).
# ARGV: 1 webhook-id TTL, 2 job id, 3 now (Unix seconds), 4 grace seconds, 5… the job
#       hash's per-job field/value pairs.
# A missing template (Redis lost its data) answers -1 before anything is written; the
# caller stores it and calls again.
# A job already queued or deferred is not piled up; a scheduled retry is left alone unless
# its time passed more than the grace ago (no scheduler is running it: its worker was
# killed holding RQ's scheduler lock, and RQ only retries taking that lock every 10
# minutes), then it is taken out of the registry and run now.
_ENQUEUE_LUA = """
local template = redis.call('HGETALL', KEYS[6])
if #template == 0 then return -1 end
if KEYS[1] ~= '' then
  if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
end
local status = redis.call('HGET', KEYS[2], 'status')
if status == 'queued' or status == 'deferred' then return 1 end
if status == 'scheduled' then
  local at = redis.call('ZSCORE', KEYS[4], ARGV[2])
  if at and tonumber(ARGV[3]) - tonumber(at) <= tonumber(ARGV[4]) then return 1 end
  redis.call('ZREM', KEYS[4], ARGV[2])
end
redis.call('SADD', KEYS[5], KEYS[3])
redis.call('HSET', KEYS[2], unpack(template))
redis.call('HSET', KEYS[2], unpack(ARGV, 5))
redis.call('RPUSH', KEYS[3], ARGV[2])
return 2
"""


def get_queue(redis: Redis, name: str) -> Queue:
    return Queue(name, connection=redis, serializer=JSONSerializer)


def booking_job_id(shop_id: int, order_number: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", order_number)
    return f"book-{shop_id}-{safe}"


def booking_job(queue: Queue, shop_id: int, order_number: str, *, source: str) -> Job:
    """The job ``Queue.enqueue`` would create and save, built without touching Redis."""
    job = queue.create_job(
        BOOK_ORDER,
        args=(shop_id, order_number),
        job_id=booking_job_id(shop_id, order_number),
        retry=Retry(max=len(BOOKING_RETRY_INTERVALS), interval=list(BOOKING_RETRY_INTERVALS)),
        timeout=BOOKING_JOB_TIMEOUT,
        result_ttl=BOOKING_RESULT_TTL,
        failure_ttl=BOOKING_FAILURE_TTL,
        meta={"source": source},
        description=f"book order {order_number} of shop {shop_id} ({source})",
    )
    job.origin = queue.name  # what Queue.enqueue_job sets before saving
    job.enqueued_at = now()
    job._status = JobStatus.QUEUED  # written in the same HSET as the rest
    return job


_templates: dict[tuple[str, tuple[int, ...]], tuple[str, dict[str, Any]]] = {}


def _template(queue: Queue) -> tuple[str, dict[str, Any]]:
    """The fields of RQ's own booking job that do not depend on the order, and the Redis
    key they are stored under (named by their content: another RQ version or retry
    schedule makes another key)."""
    key = (queue.name, tuple(BOOKING_RETRY_INTERVALS))
    found = _templates.get(key)
    if found is None:
        whole = booking_job(queue, 0, "0", source="").to_dict()
        static = {k: v for k, v in sorted(whole.items()) if k not in PER_JOB}
        digest = hashlib.sha1(repr(static).encode(), usedforsecurity=False).hexdigest()
        found = _templates[key] = (f"mww:rq-job-template:{digest}", static)
    return found


def booking_job_hash(queue: Queue, shop_id: int, order_number: str, source: str) -> dict[str, Any]:
    """``booking_job(...).to_dict()``, fast: RQ builds one job per queue (and retry
    schedule); every later hash copies it and replaces only what depends on the order and
    the time. tests/test_queue.py compares the result with RQ's own enqueue."""
    return {**_template(queue)[1], **_per_job_fields(shop_id, order_number, source)}


def _per_job_fields(shop_id: int, order_number: str, source: str) -> dict[str, Any]:
    stamp = utcformat(now())
    return dict(
        created_at=stamp,
        enqueued_at=stamp,
        data=zlib.compress(JSONSerializer.dumps((BOOK_ORDER, None, (shop_id, order_number), {}))),
        meta=JSONSerializer.dumps({"source": source}),
        description=f"book order {order_number} of shop {shop_id} ({source})",
    )


def _enqueue(queue: Queue, shop_id: int, order_number: str, source: str, webhook: str) -> int:
    global _script
    if _script is None:  # EVALSHA; redis-py loads the script on a NOSCRIPT answer
        _script = cast(Script, queue.connection.register_script(_ENQUEUE_LUA))
    job_id = booking_job_id(shop_id, order_number)
    args: list[Any] = [WEBHOOK_ID_TTL, job_id, time.time(), SCHEDULER_GRACE_SECONDS]
    for name, value in _per_job_fields(shop_id, order_number, source).items():
        args += (name, value)
    template_key, static = _template(queue)
    keys = [
        webhook,
        Job.key_for(job_id),
        queue.key,
        queue.scheduled_job_registry.key,
        queue.redis_queues_keys,
        template_key,
    ]
    answer = int(_script(keys=keys, args=args, client=queue.connection))
    if answer == NO_TEMPLATE:  # first call on this Redis, or it lost its data
        pipe = queue.connection.pipeline()
        pipe.hset(template_key, mapping=static)  # type: ignore[arg-type]
        pipe.expire(template_key, TEMPLATE_TTL)
        pipe.execute()
        answer = int(_script(keys=keys, args=args, client=queue.connection))
    return answer


_script: Script | None = None


def enqueue_booking(queue: Queue, shop_id: int, order_number: str, *, source: str) -> bool:
    """Enqueue ``book_order``; False if that job is already waiting to run."""
    return _enqueue(queue, shop_id, order_number, source, "") == QUEUED


def queue_notification(queue: Queue, shop_id: int, webhook_id: str, order_number: str) -> str:
    """The notification endpoint's one Redis round trip: ``"duplicate"`` if this
    ``webhook-id`` was seen for the shop (remembered ``WEBHOOK_ID_TTL``), else
    ``"queued"`` (enqueued now, or its job was already waiting).

    Atomic: when it raises ``RedisError`` nothing was written, unless only the answer
    was lost (then the job is queued and the id remembered: the caller forgets the id,
    and the sender's retry finds the job waiting).
    """
    answer = _enqueue(queue, shop_id, order_number, "webhook", webhook_key(shop_id, webhook_id))
    return "duplicate" if answer == DUPLICATE else "queued"
