"""Benchmark 7 — backfill speed.

One shop with ``orders`` paid orders placed from one date on (about ten hours apart, so
10 000 span months); nothing booked yet. A backfill by order date from that date
(``app.booking.reconcile.run_pass`` in BACKFILL mode, what ``flask --app app reconcile --shop ID
--since DATE`` runs), then ``workers`` worker processes (the Procfile's, non-forking)
book everything, every e-Boekhouden call delayed ``latency`` seconds. Wall time: from
the start of the pass until the last order is booked in the register.

Baseline: the ideal, ``orders × one AddMutatie round trip / workers``, with the round
trip measured in the same run through the connector's own client against the same
simulator (``bench.e2e.measure_floor``). A second ideal counts every e-Boekhouden call
the backfill actually made (a first-time customer also costs relation look-ups).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from bench import load
from bench.e2e import booked_count, measure_floor
from bench.orders import BOOKABLE_KINDS, make_orders
from bench.scale import eb_calls_total
from bench.stack import Stack


@dataclass
class BackfillConfig:
    orders: int = 10_000
    latency: float = 0.1
    workers: int = 2
    floor_samples: int = 30
    timeout: float = 7200.0


def run(config: BackfillConfig | None = None, log: Any = print) -> dict[str, Any]:
    from app.booking.reconcile import BACKFILL, run_pass

    config = config or BackfillConfig()
    with Stack("bench-backfill", workers=0, clock=False, web=False, shops=1) as stack:
        info = stack.shops[0]
        orders = make_orders(
            config.orders, seed="backfill", start_number=2_000_001, kinds=BOOKABLE_KINDS, status=3
        )
        stack.add_orders(info, orders)
        first_date = min(dt.date.fromisoformat(o["date"]) for o in orders)
        stack.faults("eb", {"latency": config.latency})
        floor_ms = load.median(measure_floor(stack, config.floor_samples))
        for index in range(config.workers):
            stack.start_worker(index)
        stack.wait_for_workers(config.workers)
        services = stack.services()
        shop = services.load_shop(info.id)
        base = eb_calls_total(stack)
        log(
            f"  backfill: {config.orders} orders since {first_date}, AddMutatie round trip "
            f"{floor_ms:.1f} ms, {config.workers} workers"
        )
        started = time.monotonic()
        since = dt.datetime.combine(first_date, dt.time(), tzinfo=dt.UTC)
        result = run_pass(services, shop, mode=BACKFILL, since=since)
        listed = time.monotonic() - started
        deadline = started + config.timeout
        while booked_count(stack, info.id) < config.orders:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"backfill: {booked_count(stack, info.id)} of "
                    f"{config.orders} booked after {config.timeout:.0f} s"
                )
            time.sleep(0.5)
        wall = time.monotonic() - started
        calls = eb_calls_total(stack)
        calls.subtract(base)
    ideal = config.orders * floor_ms / 1000 / config.workers
    total_calls = sum(v for v in calls.values() if v > 0)
    ideal_calls = total_calls * floor_ms / 1000 / config.workers
    log(f"  backfill: {wall:.1f} s (ideal {ideal:.1f} s, {wall / ideal:.2f}×)")
    return {
        "config": config.__dict__,
        "first_date": first_date.isoformat(),
        "enqueued": result.enqueued,
        "listing_s": listed,
        "wall_s": wall,
        "floor_ms": floor_ms,
        "ideal_s": ideal,
        "ratio": wall / ideal,
        "eb_calls": {k: v for k, v in calls.items() if v > 0},
        "ideal_calls_s": ideal_calls,
        "ratio_calls": wall / ideal_calls,
        "target_met": wall / ideal <= 1.3,
    }
