"""One reconcile pass for one shop: list what changed, enqueue what is not booked.

Run by the clock's jobs (reconciler/), ``flask reconcile`` and the pages alike.

The reconciler never posts to e-Boekhouden; it enqueues the same ``book_order`` job as
the webhook path, so one set of idempotency and retry rules covers both. A pass:

1. takes the shop's lock (a Redis lock that expires if its holder dies);
2. lists orders whose status changed in [watermark − overlap, now] (or, for a backfill,
   placed in [since, until] per bookable status), all pages, deduplicated by uuid;
3. keeps bookable, non-test orders and finds the ones not booked yet in bulk: one Redis
   round trip, then one SQL query per 500 numbers;
4. also re-enqueues register rows stuck in ``retrying`` or in an expired ``posting`` lease,
   and (modes with payments) orders whose money is not settled yet: among the changed
   orders in the fast poll, all within ``PAYMENT_LOOKBACK_DAYS`` in the hourly pass;
   and, once the system is back, the rows that failed for a system reason (healing.py);
5. enqueues; advances the watermark only if the pass finished without error; writes a
   run record; tells the shop's poll schedule what it found (app/polling.py).

Orders placed before the shop's start date are left alone, unless the pass was asked
for them (``since``: Inhalen, ``reconcile --since``). A shop whose credentials were
refused is re-tested by its passes: Mijnwebwinkel's by the listing itself, e-Boekhouden's
by opening a session first; when they work again the shop is active and healed.

Mijnwebwinkel's ``status_changed_*`` filters take shop-local times (Europe/Amsterdam,
an assumption: docs/assumptions.md). The watermark is kept in UTC and converted per pass;
on the autumn DST night the local window is widened by the hour that repeats.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from zoneinfo import ZoneInfo

from app.booking.healing import recovered, refused, retest_bookkeeping
from app.config import RECONCILE_LOCK_SECONDS
from app.core.orders import OrderSummary
from app.core.start_date import placed_before
from app.errors import ShopAuthError
from app.jobs.queue import enqueue_booking
from app.metrics import RECONCILE_ORDERS, RECONCILE_PASSES, RECONCILE_SECONDS
from app.polling import PollSchedule
from app.services import Services
from app.states import BookingMode, BookingState, RunMode, RunOutcome, ShopStatus
from app.store.engine import utcnow
from app.store.runs import RunCounts
from app.store.shop_lifecycle import EBOEKHOUDEN
from app.store.shops import Shop

log = logging.getLogger(__name__)
SHOP_TZ = ZoneInfo("Europe/Amsterdam")
POLL, HOURLY, BACKFILL, MANUAL = RunMode.POLL, RunMode.HOURLY, RunMode.BACKFILL, RunMode.MANUAL


# Told the numbers to enqueue (once with 0 done, then after each enqueue): the
# backfill's live progress and the terminal's progress bar.
Progress = Callable[["PassResult", list[str], int], None]


@dataclass
class PassResult:
    shop_id: int
    mode: RunMode
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    outcome: RunOutcome = RunOutcome.RUNNING
    seen: int = 0
    already_booked: int = 0
    enqueued: int = 0
    skipped: int = 0
    errors: int = 0
    error: str | None = None
    duration_ms: int = 0
    run_id: int | None = None
    would_enqueue: list[str] = field(default_factory=list)

    @property
    def counts(self) -> RunCounts:
        return RunCounts(self.seen, self.already_booked, self.enqueued, self.skipped, self.errors)

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["mode"], data["outcome"] = str(self.mode), str(self.outcome)
        for key in ("window_start", "window_end"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data


def local_window(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """UTC bounds → naive Europe/Amsterdam bounds for ``status_changed_*``.

    When the clocks go back inside the window, local time repeats an hour, so the naive
    start moves back by that hour to cover both passes through it.
    """
    local_start, local_end = start.astimezone(SHOP_TZ), end.astimezone(SHOP_TZ)
    shift = (local_start.utcoffset() or dt.timedelta()) - (local_end.utcoffset() or dt.timedelta())
    naive_start = local_start.replace(tzinfo=None)
    if shift > dt.timedelta(0):
        naive_start -= shift
    return naive_start, local_end.replace(tzinfo=None)


def window_for(
    services: Services, shop: Shop, mode: str, now: dt.datetime, since: dt.datetime | None
) -> dt.datetime:
    settings = services.settings
    overlap = dt.timedelta(minutes=settings.reconcile_overlap_minutes)
    if since is not None:
        return since
    lookback = dt.timedelta(hours=settings.reconcile_lookback_hours)
    if mode == POLL:
        lookback = max(overlap, dt.timedelta(seconds=2 * settings.poll_interval_seconds))
    start = now - lookback
    if shop.watermark is not None:
        start = min(start, shop.watermark - overlap)
    if shop.book_from is not None:  # nothing placed before it changed status before it
        start = max(start, shop.book_from - overlap)
    return start


def run_pass(
    services: Services,
    shop: Shop,
    *,
    mode: RunMode,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> PassResult:
    """Reconcile one shop once; never raises for upstream failures (see ``outcome``)."""
    now = now or utcnow()
    result = PassResult(shop.id, mode)
    lock = services.redis.lock(
        f"mww:reconcile:{shop.id}", timeout=RECONCILE_LOCK_SECONDS, blocking=False
    )
    if not lock.acquire():
        result.outcome = RunOutcome.LOCKED
        return result
    started = time.perf_counter()
    try:
        result.window_start = window_for(services, shop, mode, now, since)
        result.window_end = until or now
        if not dry_run:
            result.run_id = services.store.runs.start(
                shop.id, mode, result.window_start, result.window_end
            )
        if shop.status == ShopStatus.AUTH_FAILED and not dry_run:
            shop = retest_bookkeeping(services, shop)
        _reconcile(
            services,
            shop,
            result,
            backfill=mode == BACKFILL,
            dry_run=dry_run,
            progress=progress,
            requested=since is not None,
        )
        result.outcome = RunOutcome.DRY_RUN if dry_run else RunOutcome.OK
    except ShopAuthError as err:
        result.outcome, result.error, result.errors = RunOutcome.FAILED, err.explanation, 1
        if not dry_run:
            refused(services, shop, err)  # booking stops; mails at once (if opted in)
    except Exception as err:  # any failure: record it; the next pass retries the window
        log.exception("reconcile pass failed", extra={"shop_id": shop.id, "mode": mode})
        result.outcome, result.errors = RunOutcome.FAILED, result.errors + 1
        result.error = getattr(err, "explanation", None) or f"{type(err).__name__}: {err}"
    finally:
        result.duration_ms = int((time.perf_counter() - started) * 1000)
        _finish(services, shop, result, dry_run)
        lock.release()
    return result


def _finish(services: Services, shop: Shop, result: PassResult, dry_run: bool) -> None:
    RECONCILE_PASSES.labels(result.mode, result.outcome).inc()
    RECONCILE_SECONDS.labels(result.mode).observe(result.duration_ms / 1000)
    if dry_run or result.run_id is None:
        return
    advances = result.mode in (POLL, HOURLY, MANUAL) and result.outcome == RunOutcome.OK
    services.store.runs.finish(
        result.run_id,
        outcome=result.outcome,
        counts=result.counts,
        error=result.error,
        duration_ms=result.duration_ms,
        shop=shop,
        watermark=result.window_end if advances else None,
    )
    if advances and result.mode != MANUAL and result.window_end:  # the shop's next poll
        PollSchedule(services.redis, services.settings).after_pass(
            shop.id, result.mode, result.seen, result.enqueued, result.window_end.timestamp()
        )


def _list_orders(
    services: Services, shop: Shop, result: PassResult, backfill: bool
) -> list[OrderSummary]:
    api = services.shop_api(shop)
    assert result.window_start is not None and result.window_end is not None
    found: dict[str, OrderSummary] = {}
    if backfill:
        start = result.window_start.astimezone(SHOP_TZ).date()
        end = result.window_end.astimezone(SHOP_TZ).date()
        statuses = shop.mapping.bookable_statuses | shop.mapping.credit_statuses
        for status in sorted(statuses):
            for summary in api.iter_orders_by_date(start, end, status):
                found.setdefault(summary.uuid or summary.number, summary)
    else:
        local_start, local_end = local_window(result.window_start, result.window_end)
        for summary in api.iter_orders_changed(local_start, local_end):
            found.setdefault(summary.uuid or summary.number, summary)
    return list(found.values())


def _awaiting_money(
    services: Services, shop: Shop, result: PassResult, changed: list[str]
) -> list[str]:
    """Booked orders whose money is not settled yet (payments to book; cash: orders
    waiting to be paid). The hourly pass looks at all of them placed within the shop's
    payment lookback (``PAYMENT_LOOKBACK_DAYS`` unless the shop set its own); the fast
    poll only among the orders that changed, whatever their age (late money: a shop
    marks a late bank transfer paid). Unpaid at the end of the lookback, an invoice is an
    open item (app/store/open_items.py). Settled orders are never in this list, so they
    cost no call."""
    if shop.mapping.booking_mode == BookingMode.INVOICE or result.window_end is None:
        return []
    if result.mode == POLL:
        return services.store.payments.outstanding(shop.id, None, among=changed)
    days = shop.mapping.lookback_days(services.settings.payment_lookback_days)
    since = result.window_end - dt.timedelta(days=days)
    return services.store.payments.outstanding(shop.id, since.date())


def _reconcile(
    services: Services,
    shop: Shop,
    result: PassResult,
    *,
    backfill: bool,
    dry_run: bool,
    progress: Progress | None = None,
    requested: bool = False,
) -> None:
    orders = _list_orders(services, shop, result, backfill)
    healed: list[str] = []
    if not dry_run and shop.status == ShopStatus.AUTH_FAILED and shop.status_system != EBOEKHOUDEN:
        recovered(services, shop.id)  # Mijnwebwinkel answered: the token works again
    elif not dry_run and shop.status == ShopStatus.ACTIVE:
        healed = services.store.bookings.retry_system_failures(shop.id)
    result.seen = len(orders)
    statuses = shop.mapping.bookable_statuses | shop.mapping.credit_statuses
    candidates = [
        o.number
        for o in orders
        if o.status in statuses
        and not o.is_test
        and (requested or not placed_before(o.date, o.time, shop.book_from))
    ]
    result.skipped = len(orders) - len(candidates)

    booked = services.booked.booked_among(shop.id, candidates)
    unsure = [n for n in candidates if n not in booked]
    states = services.store.bookings.states_of(shop.id, unsure)
    # Rows no job is working on: retries RQ gave up on, and claims whose worker died.
    stuck = services.store.bookings.stuck(shop.id, utcnow())
    done = {n for n, state in states.items() if state in (BookingState.BOOKED, BookingState.FAILED)}
    result.already_booked = len(booked) + sum(1 for n in done if states[n] == BookingState.BOOKED)
    to_enqueue = list(
        dict.fromkeys(
            [n for n in unsure if n not in done]
            + stuck
            + healed
            + _awaiting_money(services, shop, result, candidates)
        )
    )
    if dry_run:
        result.would_enqueue = to_enqueue
        return
    if progress:
        progress(result, to_enqueue, 0)
    for count, number in enumerate(to_enqueue, 1):
        if enqueue_booking(
            services.queue, shop.id, number, source=result.mode, on_request=requested
        ):
            result.enqueued += 1
        if progress:
            progress(result, to_enqueue, count)
    RECONCILE_ORDERS.labels("enqueued").inc(result.enqueued)
    RECONCILE_ORDERS.labels("already_booked").inc(result.already_booked)
    RECONCILE_ORDERS.labels("skipped").inc(result.skipped)
