"""RQ entry points: thin shims around the use cases in ``app.booking``.

Enqueued by dotted path (``app.jobs.queue.BOOK_ORDER``) so ``app`` never imports
``worker``. Arguments are JSON primitives (the queue uses RQ's JSONSerializer).
"""

from __future__ import annotations

import logging
from functools import cache

from redis.exceptions import RedisError
from rq import get_current_job
from rq.job import Job

from app.booking.pipeline import book_order
from app.booking.reconcile import run_pass
from app.config import Settings
from app.errors import RateLimitedError
from app.jobs.defer import MAX_DEFERRALS, defer_booking, defer_seconds, deferrals
from app.jobs.queue import booking_started, booking_will_retry, reconcile_started
from app.logs import bind
from app.metrics import BOOKINGS, JOB_SECONDS, timed
from app.services import Services, build_services
from app.states import JobOutcome, RunMode
from app.store.engine import utcnow
from app.store.shops import Shop, UnreadableShopError

log = logging.getLogger(__name__)


@cache
def runtime_services() -> Services:
    """Built once per process (the RQ work horse inherits it across jobs when possible).
    Jobs are retried, so the pool does not ping each connection first (make_engine)."""
    return build_services(Settings.from_env(), pre_ping=False)


def book_order_job(shop_id: int, order_number: str, on_request: bool = False) -> dict[str, object]:
    """``on_request``: a person asked for this order (Inhalen, a retry, `reconcile --since`)."""
    job = get_current_job()
    with bind(job_id=job.id if job else None, shop_id=shop_id, order=order_number):
        services = runtime_services()
        booking_started(services.redis, shop_id, order_number)
        shop = services.load_shop(shop_id)
        if shop is None or not shop.status.books_orders:  # paused, removed, not installed
            BOOKINGS.labels(JobOutcome.SHOP_INACTIVE).inc()
            return {"status": JobOutcome.SHOP_INACTIVE, "order_number": order_number}
        try:
            with timed(JOB_SECONDS):
                outcome = book_order(services, shop, order_number, on_request=on_request)
        except Exception as err:
            if isinstance(err, RateLimitedError) and deferrals(job) < MAX_DEFERRALS:
                deferred = _defer(services, job, shop_id, order_number, on_request, err)
                if deferred is not None:
                    return deferred
            BOOKINGS.labels("retry").inc()
            log.warning("booking will be retried: %s", type(err).__name__)
            booking_will_retry(services.redis, job, shop_id, order_number)
            raise  # RQ's Retry takes over; the register row says "retrying"
        BOOKINGS.labels(outcome.status).inc()
        log.info("booking job done: %s", outcome.status)
        return outcome.as_dict()


def _defer(
    services: Services,
    job: Job | None,
    shop_id: int,
    order_number: str,
    on_request: bool,
    err: RateLimitedError,
) -> dict[str, object] | None:
    """Asked to wait: the booking runs again after the wait (app/jobs/defer.py); None
    when it could not be scheduled (Redis), and the job fails over to RQ's Retry."""
    seconds = defer_seconds(err.retry_after)
    try:
        defer_booking(
            services.queue, job, shop_id, order_number, on_request=on_request, seconds=seconds
        )
    except RedisError:
        return None
    BOOKINGS.labels(JobOutcome.DEFERRED).inc()
    log.info("booking deferred for %.0fs (%s %s)", seconds, err.system, err.code)
    return {"status": JobOutcome.DEFERRED, "order_number": order_number, "seconds": seconds}


def _readable_shop(services: Services, shop_id: int) -> Shop | None:
    """The shop, or None when it is gone or cannot be read (logged; its pass is skipped,
    as the clock skips it: app/store/shops.py)."""
    try:
        return services.load_shop(shop_id)
    except UnreadableShopError as err:
        log.error("shop skipped: %s", err)
        return None


def reconcile_shop_job(shop_id: int, mode: str) -> dict[str, object]:
    with bind(shop_id=shop_id, mode=mode):
        services = runtime_services()
        reconcile_started(services.redis, shop_id, mode)
        shop = _readable_shop(services, shop_id)
        if shop is None or not shop.status.books_orders:
            return {"status": JobOutcome.SHOP_INACTIVE, "shop_id": shop_id}
        result = run_pass(services, shop, mode=RunMode(mode)).as_dict()
        if mode == RunMode.HOURLY:  # run records past their retention: a batch an hour
            result["runs_pruned"] = services.store.runs.prune(shop_id, utcnow())
        return result


def backfill_shop_job(shop_id: int, since: str) -> dict[str, object]:
    """ "Bestellingen vanaf [datum] boeken": a BACKFILL pass that reports its progress."""
    import datetime as dt

    from app.booking.backfill import run as run_backfill

    with bind(shop_id=shop_id, mode="backfill"):
        services = runtime_services()
        shop = _readable_shop(services, shop_id)
        if shop is None or not shop.status.books_orders:
            return {"status": JobOutcome.SHOP_INACTIVE, "shop_id": shop_id}
        return run_backfill(services, shop, dt.date.fromisoformat(since)).as_dict()


def alert_digest_job() -> dict[str, object]:
    """The hourly failure digest of every shop (app.booking.alerts)."""
    from app.booking.alerts import digest_all

    return {"mails": digest_all(runtime_services())}


def report_job(shop_id: int, period_key: str, books: bool, report_key: str) -> dict[str, object]:
    """The period report ("Controle"): built, cached, its progress on the page."""
    from app.report import runs
    from app.report.period import parse_period

    with bind(shop_id=shop_id, mode="report"):
        services = runtime_services()
        shop = services.load_shop(shop_id)
        if shop is None:
            return {"status": JobOutcome.SHOP_INACTIVE, "shop_id": shop_id}
        state = runs.run(services, shop, parse_period(period_key), books, report_key)
        return {"status": state, "shop_id": shop_id, "period": period_key}
