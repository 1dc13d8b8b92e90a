"""Benchmark 3 — the reconciler's pass over a big window.

One shop with ``orders`` orders whose status changed inside the window, ``booked_share``
of them already booked in the register (inserted directly: the reconciler only reads the
ledger). A real hourly pass (``app.booking.reconcile.run_pass``, in this process, against
the simulator, PostgreSQL and Redis of the stack) is timed against its baseline: only
listing the same pages from the simulator with the same client. Passes and listings
alternate; the first pass (Redis booked set still cold: rebuilt from SQL) is reported on
its own. Between passes the queue is emptied, so every pass enqueues the same orders.
SQL statements and Redis round trips are counted at the driver.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import event

from bench import load
from bench.orders import BOOKABLE_KINDS, make_orders
from bench.stack import Stack


@dataclass
class ReconcileConfig:
    orders: int = 10_000
    booked_share: float = 0.99
    rounds: int = 3


class RoundTrips:
    """Counts SQL statements/commits on an engine and Redis round trips (every packed
    send on a connection: one command, or one whole pipeline/transaction)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.sql = self.commits = self.redis = 0
        self._active = False

    def _on_execute(self, *args: Any) -> None:
        if self._active:
            self.sql += 1

    def _on_commit(self, *args: Any) -> None:
        if self._active:
            self.commits += 1

    @contextlib.contextmanager
    def counting(self) -> Iterator[RoundTrips]:
        from redis.connection import AbstractConnection

        original = AbstractConnection.send_packed_command
        counter = self

        def send_packed_command(conn: Any, command: Any, check_health: bool = True) -> Any:
            if counter._active:
                counter.redis += 1
            return original(conn, command, check_health)

        self.sql = self.commits = self.redis = 0
        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        event.listen(self.engine, "commit", self._on_commit)
        AbstractConnection.send_packed_command = send_packed_command  # type: ignore[method-assign]
        self._active = True
        try:
            yield self
        finally:
            self._active = False
            AbstractConnection.send_packed_command = original  # type: ignore[method-assign]
            event.remove(self.engine, "before_cursor_execute", self._on_execute)
            event.remove(self.engine, "commit", self._on_commit)


class TimedListing:
    """Wraps a ``ShopApi``: adds up the time spent inside ``iter_orders_changed``, so a
    pass's own work (everything but fetching pages) can be told apart from the listing."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.seconds = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.api, name)

    def iter_orders_changed(self, start: dt.datetime, end: dt.datetime) -> Iterator[Any]:
        pages = self.api.iter_orders_changed(start, end)
        while True:
            began = time.perf_counter()
            try:
                item = next(pages)
            except StopIteration:
                self.seconds += time.perf_counter() - began
                return
            self.seconds += time.perf_counter() - began
            yield item


def seed_ledger(stack: Stack, shop_id: int, orders: list[dict[str, Any]]) -> None:
    from app.store.db import bookings
    from app.store.engine import utcnow

    now = utcnow()
    rows = [
        {
            "shop_id": shop_id,
            "order_number": str(o["number"]),
            "order_uuid": o["uuid"],
            "kind": "order",
            "state": "booked",
            "mutation_number": 50_000 + i,
            "relation_code": "BENCH",
            "total": Decimal(o["price"]["total"]),
            "attempts": 1,
            "uncertain": False,
            "created_at": now,
            "updated_at": now,
            "booked_at": now,
        }
        for i, o in enumerate(orders)
    ]
    with stack.services().engine.begin() as conn:
        for start in range(0, len(rows), 2000):
            conn.execute(bookings.insert(), rows[start : start + 2000])


def run(config: ReconcileConfig | None = None, log: Any = print) -> dict[str, Any]:
    from app.booking.reconcile import HOURLY, local_window, run_pass

    config = config or ReconcileConfig()
    with Stack("bench-reconcile", workers=0, clock=False, web=False, shops=1) as stack:
        info = stack.shops[0]
        changed = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
        from zoneinfo import ZoneInfo

        local_changed = changed.astimezone(ZoneInfo("Europe/Amsterdam")).replace(
            tzinfo=None, microsecond=0
        )
        orders = make_orders(
            config.orders,
            seed="reconcile",
            start_number=1_000_001,
            kinds=BOOKABLE_KINDS,
            status=3,
            changed_at=local_changed,
        )
        stack.add_orders(info, orders)
        booked = int(config.orders * config.booked_share)
        seed_ledger(stack, info.id, orders[:booked])
        services = stack.services()
        shop = services.load_shop(info.id)
        assert shop is not None
        counter = RoundTrips(services.engine)

        real_factory = services.shop_api_factory
        timed: list[TimedListing] = []

        def timed_factory(shop_: Any) -> Any:
            timed.append(TimedListing(real_factory(shop_)))
            return timed[-1]

        services.shop_api_factory = timed_factory
        own_work: list[float] = []

        def one_pass() -> tuple[float, Any, RoundTrips]:
            services.queue.empty()
            timed.clear()
            with counter.counting():
                started = time.perf_counter()
                result = run_pass(services, shop, mode=HOURLY)
                took = time.perf_counter() - started
            if result.outcome != "ok":
                raise RuntimeError(f"reconcile pass failed: {result.error}")
            own_work.append(took - sum(t.seconds for t in timed))
            return took, result, counter

        def listing(start: dt.datetime, end: dt.datetime) -> tuple[float, int]:
            api = real_factory(shop)
            local_start, local_end = local_window(start, end)
            began = time.perf_counter()
            count = sum(1 for _ in api.iter_orders_changed(local_start, local_end))
            return time.perf_counter() - began, count

        cold_time, cold, _ = one_pass()
        cold_trips = {"sql": counter.sql, "commits": counter.commits, "redis": counter.redis}
        log(
            f"  reconcile: cold pass {cold_time:.2f}s, seen {cold.seen}, enqueued "
            f"{cold.enqueued}, round trips {cold_trips}"
        )
        passes, listings, trips = [], [], []
        for round_no in range(config.rounds):
            window = (cold.window_start, cold.window_end)
            order = ("list", "pass") if round_no % 2 == 0 else ("pass", "list")
            for what in order:
                if what == "list":
                    took, count = listing(*window)
                    listings.append(took)
                    log(
                        f"  reconcile round {round_no + 1}: listing only {took:.2f}s "
                        f"({count} orders)"
                    )
                else:
                    took, result, _ = one_pass()
                    passes.append(took)
                    trips.append(
                        {"sql": counter.sql, "commits": counter.commits, "redis": counter.redis}
                    )
                    log(
                        f"  reconcile round {round_no + 1}: pass {took:.2f}s (seen "
                        f"{result.seen}, already booked {result.already_booked}, enqueued "
                        f"{result.enqueued}) round trips {trips[-1]}"
                    )
        ratios = [p / b for p, b in zip(passes, listings, strict=True)]
        out = {
            "config": config.__dict__,
            "orders_in_window": cold.seen,
            "already_booked": cold.already_booked,
            "enqueued": cold.enqueued,
            "pages": -(-cold.seen // 100),
            "cold_pass_s": cold_time,
            "cold_round_trips": cold_trips,
            "pass_s": load.median(passes),
            "listing_s": load.median(listings),
            "ratio": load.median(ratios),
            "passes": passes,
            "listings": listings,
            "round_trips": trips[-1] if trips else {},
            "cold_ratio": cold_time / load.median(listings),
            "cold_own_work_s": own_work[0],
            "own_work_s": load.median(own_work[1:]),
        }
        out["target_met"] = out["ratio"] <= 1.2
        return out


if __name__ == "__main__":
    import sys

    cfg = ReconcileConfig()
    for arg in sys.argv[1:]:
        key, _, value = arg.partition("=")
        setattr(cfg, key, type(getattr(cfg, key))(value))
    print(json.dumps(run(cfg), indent=2, default=str))
