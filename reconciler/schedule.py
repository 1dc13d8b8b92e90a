"""The clock: enqueue reconcile passes on the RQ workers at fixed intervals.

Two clocks started by mistake do no harm: each time slot is claimed in Redis (SET NX)
by exactly one clock, and each pass takes the shop's lock anyway.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from app.config import (
    CLOCK_TICK_SECONDS,
    RECONCILE_FAILURE_TTL,
    RECONCILE_JOB_TIMEOUT,
    RECONCILE_RESULT_TTL,
)
from app.queue import RECONCILE_SHOP
from app.services import Services
from app.states import RunMode

log = logging.getLogger(__name__)


def due_modes(services: Services, now: float) -> list[RunMode]:
    """The modes whose slot starts now and that this clock won (SET NX per slot)."""
    settings = services.settings
    modes = []
    for mode, interval in ((RunMode.HOURLY, settings.reconcile_interval_seconds),
                           (RunMode.POLL, settings.poll_interval_seconds)):
        if interval <= 0:
            continue
        slot = int(now // interval)
        if services.redis.set(f"mww:clock:{mode}:{slot}", "1", nx=True, ex=2 * interval):
            modes.append(mode)
    # An hourly pass covers the poll window too.
    return [RunMode.HOURLY] if RunMode.HOURLY in modes else modes


def enqueue_passes(services: Services, mode: RunMode) -> int:
    shops = services.store.shops.booking()
    for shop in shops:
        services.queue.enqueue(
            RECONCILE_SHOP, shop.id, str(mode), job_id=f"reconcile-{shop.id}-{mode}",
            job_timeout=RECONCILE_JOB_TIMEOUT, result_ttl=RECONCILE_RESULT_TTL,
            failure_ttl=RECONCILE_FAILURE_TTL, description=f"{mode} reconcile of shop {shop.id}")
    log.info("reconcile passes enqueued", extra={"mode": str(mode)})
    return len(shops)


def run_clock(services: Services, *, tick_seconds: float = CLOCK_TICK_SECONDS,
              stop: Callable[[], bool] = lambda: False) -> None:
    while not stop():
        for mode in due_modes(services, time.time()):
            enqueue_passes(services, mode)
        time.sleep(tick_seconds)
