"""A booking asked to wait (a 429 with ``Retry-After`` from either system, or no free
e-Boekhouden call slot: app/limits.py) is deferred, not failed: the job ends and the same
booking is enqueued again for after the wait, through RQ's scheduler
(``Queue.enqueue_in``; ``python -m worker`` runs it). This is the system's kind of retry:
the order's row stays *wachtend* ("retrying", with the upstream's calm Dutch note), it is
never "failed" and no person is asked to act. The deferral does not use up the job's own
``Retry`` (that stays for real failures), and exactly-once holds as for any second run:
the SQL register's claim and the look-up by Factuurnummer before a repost.

The waiting mark (app/jobs/queue.py) is set for the wait, so the passes do not queue a
twin meanwhile. After ``MAX_DEFERRALS`` in a row the job raises as any transient failure
would: RQ's ``Retry`` then spaces the tries out (and the hourly pass still finds it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random

from redis.exceptions import RedisError
from rq import Queue
from rq.job import Job

from app.config import SCHEDULER_GRACE_SECONDS
from app.jobs.queue import BOOK_ORDER, _booking_options, _job_id, booking_key, waiting_key

MIN_DEFER_SECONDS = 1.0  # a Retry-After of 0 still waits this long
DEFAULT_DEFER_SECONDS = 30.0  # a 429 without Retry-After
MAX_DEFER_SECONDS = 6 * 3600.0  # the hourly pass would look sooner anyway
MAX_DEFERRALS = 50  # in a row; then RQ's Retry takes over
JITTER_SHARE = 0.2  # up to this share later, so deferred bookings do not return at once


def deferrals(job: Job | None) -> int:
    """How many times in a row this booking has been deferred already."""
    meta = job.meta if job is not None else {}
    return int(meta.get("deferrals", 0) or 0)


def defer_seconds(retry_after: float | None, rng: random.Random | None = None) -> float:
    """The wait before the deferred booking runs again: the upstream's hint (bounded),
    plus a little jitter."""
    base = DEFAULT_DEFER_SECONDS if retry_after is None else retry_after
    base = min(max(base, MIN_DEFER_SECONDS), MAX_DEFER_SECONDS)
    return base + (rng or random).uniform(0, JITTER_SHARE * base)


def defer_booking(
    queue: Queue,
    job: Job | None,
    shop_id: int,
    order_number: str,
    *,
    on_request: bool,
    seconds: float,
) -> str:
    """Enqueue the same booking to run ``seconds`` from now; its RQ job id."""
    args = (shop_id, order_number, True) if on_request else (shop_id, order_number)
    key = booking_key(shop_id, order_number)
    options = _booking_options(shop_id, order_number, "deferred")
    options["meta"] = {"source": "deferred", "deferrals": deferrals(job) + 1}
    scheduled = queue.enqueue_in(
        dt.timedelta(seconds=seconds), BOOK_ORDER, *args, job_id=_job_id(key), **options
    )
    with contextlib.suppress(RedisError):  # only spares the passes a twin
        ex = int(seconds) + 1 + SCHEDULER_GRACE_SECONDS
        queue.connection.set(waiting_key(key), "1", ex=ex)
    return str(scheduled.id)
