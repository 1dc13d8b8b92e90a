"""The clock: enqueue the hourly pass for every shop, and each shop's fast poll when due.

The hourly pass runs for every booking shop every ``RECONCILE_INTERVAL_SECONDS``. The
fast poll is adaptive (app/polling.py, the rule in app/core/polling.py): each tick the
clock claims the shops whose poll is due in one Redis script and enqueues their passes,
so a quiet shop is polled less and less often (5 → 10 → 20 → 60 minutes), a busy one
every ``POLL_INTERVAL_SECONDS``. Every poll interval (a slot) the clock also brings the
schedule's list of shops up to date (new shops are due at once).

Safe to run twice (several clock processes on one Redis): each time slot is claimed in
Redis (SET NX) by exactly one clock, each shop's due time by exactly one clock (the
claim script moves it on), and each pass takes the shop's lock anyway.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import OperationalError

from app.config import (
    ALERT_DIGEST_INTERVAL,
    CLOCK_TICK_SECONDS,
    REDIS_BACKOFF_MAX_SECONDS,
)
from app.jobs.queue import enqueue_alert_digest, enqueue_reconcile
from app.polling import PollSchedule
from app.services import Services
from app.states import RunMode

log = logging.getLogger(__name__)


def due_modes(services: Services, now: float) -> list[RunMode]:
    """The modes whose slot starts now and that this clock won (SET NX per slot)."""
    settings = services.settings
    modes = []
    for mode, interval in (
        (RunMode.HOURLY, settings.reconcile_interval_seconds),
        (RunMode.POLL, settings.poll_interval_seconds),
    ):
        if interval <= 0:
            continue
        slot = int(now // interval)
        if services.redis.set(f"mww:clock:{mode}:{slot}", "1", nx=True, ex=2 * interval):
            modes.append(mode)
    # An hourly pass covers the poll window too.
    return [RunMode.HOURLY] if RunMode.HOURLY in modes else modes


def enqueue_passes(services: Services, mode: RunMode) -> int:
    """A pass of ``mode`` for every booking shop; how many shops."""
    return len(_enqueue_all(services, mode))


def _enqueue_all(services: Services, mode: RunMode) -> list[int]:
    shops = services.store.shops.booking()
    for shop in shops:
        enqueue_reconcile(services.queue, shop.id, str(mode))
    log.info("reconcile passes enqueued", extra={"mode": str(mode)})
    return [shop.id for shop in shops]


def tick(services: Services, now: float) -> int:
    """One look at the schedule: the slots this clock won (the hourly pass for every
    shop; each poll slot brings the poll schedule's shops up to date), then, unless the
    hourly pass was just enqueued, the fast polls due now. Returns the polls enqueued."""
    schedule = PollSchedule(services.redis, services.settings)
    modes = due_modes(services, now)
    for mode in modes:
        try:
            if mode == RunMode.HOURLY:
                shop_ids = _enqueue_all(services, mode)
            else:
                shop_ids = [shop.id for shop in services.store.shops.booking()]
            schedule.sync(shop_ids, now)
            if mode == RunMode.HOURLY:  # a quiet shop's poll waits for the next one
                schedule.after_hourly(shop_ids, now)
        except TRANSIENT:
            _release_slot(services, mode, now)  # so a later tick takes it again
            raise
    if RunMode.HOURLY in modes or services.settings.poll_interval_seconds <= 0:
        return 0
    due = schedule.claim_due(now)
    for shop_id in due:
        enqueue_reconcile(services.queue, shop_id, str(RunMode.POLL))
    if due:
        log.debug("fast polls enqueued", extra={"shops": len(due)})
    return len(due)


# Redis or the database away for a while: wait and try again, never exit (under honcho
# one process exiting stops them all).
TRANSIENT = (RedisConnectionError, RedisTimeoutError, OperationalError)


def tick_for(poll_interval_seconds: float) -> float:
    """How often the clock looks at its schedule: every ``CLOCK_TICK_SECONDS`` (5 s, a
    sixtieth of the default 5-minute poll), or a sixtieth of a shorter poll interval, so
    a pass never starts more than that late (in the scale benchmark, whose compressed
    interval is short, the tick would otherwise dominate the lag)."""
    if poll_interval_seconds <= 0:
        return CLOCK_TICK_SECONDS
    return max(0.1, min(CLOCK_TICK_SECONDS, poll_interval_seconds / 60))


def alert_due(services: Services, now: float) -> bool:
    """The hourly alert slot (SET NX per slot, like the passes); off without SMTP."""
    if not services.settings.smtp_url or not services.settings.alert_from:
        return False
    slot = int(now // ALERT_DIGEST_INTERVAL)
    return bool(
        services.redis.set(f"mww:clock:alerts:{slot}", "1", nx=True, ex=2 * ALERT_DIGEST_INTERVAL)
    )


def run_clock(
    services: Services,
    *,
    tick_seconds: float = CLOCK_TICK_SECONDS,
    stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
    max_backoff: float = REDIS_BACKOFF_MAX_SECONDS,
) -> None:
    """Tick until ``stop()``. An outage is logged once per try, with backoff (the tick
    doubling up to ``max_backoff``); a slot missed meanwhile is taken by the next tick
    that is still inside it, and the hourly pass covers anything missed altogether."""
    delay = tick_seconds
    while not stop():
        now = time.time()
        try:
            tick(services, now)
            if alert_due(services, now):
                enqueue_alert_digest(services.queue)
        except TRANSIENT as err:
            delay = min(max(delay * 2, 1.0), max_backoff)
            log.warning(
                "clock: %s unavailable (%s); next try in %.0f s",
                "database" if isinstance(err, OperationalError) else "Redis",
                err,
                delay,
            )
        else:
            if delay != tick_seconds:
                log.info("clock: Redis and database answer again")
            delay = tick_seconds
        deadline = time.monotonic() + delay
        while not stop() and time.monotonic() < deadline:  # SIGTERM ends a long wait soon
            sleep(min(delay, 0.5))


def _release_slot(services: Services, mode: RunMode, now: float) -> None:
    interval = (
        services.settings.reconcile_interval_seconds
        if mode == RunMode.HOURLY
        else services.settings.poll_interval_seconds
    )
    with contextlib.suppress(*TRANSIENT):
        services.redis.delete(f"mww:clock:{mode}:{int(now // interval)}")
