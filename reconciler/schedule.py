"""The clock: enqueue reconcile passes on the RQ workers at fixed intervals.

Two clocks started by mistake do no harm: each time slot is claimed in Redis (SET NX)
by exactly one clock, and each pass takes the shop's lock anyway.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from app import ledger, shops
from app.queue import RECONCILE_SHOP
from app.services import Services
from reconciler.reconcile import HOURLY, POLL

log = logging.getLogger(__name__)


def due_modes(services: Services, now: float) -> list[str]:
    """The modes whose slot starts now and that this clock won (SET NX per slot)."""
    settings = services.settings
    modes = []
    for mode, interval in ((HOURLY, settings.reconcile_interval_seconds),
                           (POLL, settings.poll_interval_seconds)):
        if interval <= 0:
            continue
        slot = int(now // interval)
        if services.redis.set(f"mww:clock:{mode}:{slot}", "1", nx=True, ex=2 * interval):
            modes.append(mode)
    # An hourly pass covers the poll window too.
    return [HOURLY] if HOURLY in modes else modes


def enqueue_passes(services: Services, mode: str) -> int:
    with services.engine.connect() as conn:
        rows = ledger.list_shops(conn, [shops.ACTIVE, shops.AUTH_FAILED])
    for row in rows:
        services.queue.enqueue(
            RECONCILE_SHOP, row.id, mode, job_id=f"reconcile-{row.id}-{mode}",
            job_timeout=900, result_ttl=3600, failure_ttl=24 * 3600,
            description=f"{mode} reconcile of shop {row.id}")
    log.info("reconcile passes enqueued", extra={"mode": mode})
    return len(rows)


def run_clock(services: Services, *, tick_seconds: float = 5.0,
              stop: Callable[[], bool] = lambda: False) -> None:
    while not stop():
        for mode in due_modes(services, time.time()):
            enqueue_passes(services, mode)
        time.sleep(tick_seconds)
