"""Benchmark 6 — a simulated day of many shops, time compressed.

``shops`` connected shops, ``orders_per_day`` status changes per shop spread over a
working day (``day_hours``), 5 % of them credit notes; no notifications, so every order
is found by the fast poll (the worst case for lag). The Procfile's processes — 1 web,
``workers`` workers, 1 clock — against both simulators on this machine, PostgreSQL and
Redis. Time runs ``compression`` times faster than real: the status changes arrive that
much faster, and the poll and hourly intervals are divided by it. ``duration`` real
seconds cover ``duration × compression`` seconds of the working day. ``python -m bench
scale --shops 1000 --duration 1800 --compression 1`` runs 1 000 shops for half an hour of
a real day (a compressed day of 1 000 shops needs more cores than a 2-core machine).

Customers, as on a day of a shop that has been connected for a while: the shop's
returning customers (the sandbox's customer pools) already exist as relations in its
administration and in the connector's relation cache, as earlier days left them; a share
``first_time_share`` of the orders comes from customers never seen before (a new e-mail
address), whose relation the connector must look up and create.

Reported: every order booked once and cent-exact (the invariants the suite's
tests/test_scale.py asserts on a small configuration), status change → booked lag p50 /
p99 (real seconds, and × compression in simulated seconds), Mijnwebwinkel calls per shop
per simulated hour, e-Boekhouden calls per order, Redis memory and PostgreSQL size per
100 000 bookings, and the workers' memory over the run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from bench import load
from bench.orders import BOOKABLE_KINDS, SHOP_TZ, make_orders
from bench.stack import Stack, descendants, rss_kib
from sandbox.order_factory import STATUS_NEW

START_NUMBER = 100_001


@dataclass
class ScaleConfig:
    shops: int = 100
    orders_per_day: int = 200
    day_hours: float = 8.0
    credit_share: float = 0.05
    compression: float = 4.0
    duration: float = 450.0  # real seconds of status changes
    workers: int = 2
    poll_seconds: float = 300.0  # uncompressed
    hourly_seconds: float = 3600.0
    drain_timeout: float = 900.0
    seed: str = "scale"
    first_time_share: float = 0.3  # orders from customers never seen before
    extra: dict[str, Any] = field(default_factory=dict)
    idle_shops: int = 0  # connected shops beside ``shops`` that sell nothing
    # A quiet shop's poll backs off up to this (uncompressed; POLL_IDLE_MAX_SECONDS); None:
    # the default (an hour); ``poll_seconds``: no back-off, the fixed poll of before.
    idle_max_seconds: float | None = None
    clocks: int = 1  # clock processes (the clock is safe to run twice)

    @property
    def orders_per_shop(self) -> int:
        simulated = self.duration * self.compression
        return max(1, round(self.orders_per_day * simulated / (self.day_hours * 3600)))

    @property
    def poll_real(self) -> int:
        return max(1, round(self.poll_seconds / self.compression))

    @property
    def idle_max_real(self) -> int:
        idle_max = 3600.0 if self.idle_max_seconds is None else self.idle_max_seconds
        return max(self.poll_real, round(idle_max / self.compression))


def _orders_for(config: ScaleConfig, index: int) -> list[dict[str, Any]]:
    n = config.orders_per_shop
    credits = round(n * config.credit_share)
    old = dt.datetime.now(SHOP_TZ).replace(tzinfo=None, microsecond=0) - dt.timedelta(days=3)
    orders = make_orders(
        n - credits,
        seed=f"{config.seed}-{index}",
        start_number=START_NUMBER,
        kinds=BOOKABLE_KINDS,
        status=3,
        changed_at=old,
    )
    if credits:
        orders += make_orders(
            credits,
            seed=f"{config.seed}-c{index}",
            start_number=START_NUMBER + n,
            kinds=("credit",),
            changed_at=old,
        )
    rng = random.Random(f"{config.seed}-customers-{index}")
    for order in orders:
        if rng.random() < config.first_time_share:
            order["debtor"]["email"] = f"nieuw-{index}-{order['number']}@example.test"
            order["first_time"] = True  # read here only; the simulator ignores it
    return orders


def relation_of(order: dict[str, Any]) -> Any:
    from app.core.mapping import Booking, map_order
    from app.core.mapping_settings import MappingSettings
    from app.core.order_schema import parse_order

    decision = map_order(parse_order(order), MappingSettings())
    return decision.relation if isinstance(decision, Booking) else None


def seed_returning_customers(stack: Stack, shop: Any, orders: list[dict[str, Any]]) -> int:
    """The relations of the shop's returning customers, as earlier days left them: in its
    administration and in the connector's relation cache. Returns how many."""
    relations = {
        r.code: r
        for r in (relation_of(o) for o in orders if not o.get("first_time"))
        if r is not None
    }
    if not relations or shop.eb_api != "soap":
        return 0
    answer = stack._http.post(
        f"{stack.eb_base}/_sandbox/relations",
        timeout=120,
        json={
            "username": shop.eb_username,
            "relations": [
                {"code": r.code, "name": r.name, "email": r.email, "bp": r.bp}
                for r in relations.values()
            ],
        },
    )
    answer.raise_for_status()
    cache = stack.services().relations
    for relation in relations.values():
        cache.put(shop.id, relation, relation.code)
    return len(relations)


def expected_total(order: dict[str, Any]) -> tuple[tuple[str, ...], Decimal] | None:
    """The mutation kinds and the total (credit notes negative) the default mapping books;
    None when it books nothing."""
    from app.core.mapping import Booking, map_order
    from app.core.mapping_settings import MappingSettings
    from app.core.order_schema import parse_order

    decision = map_order(parse_order(order), MappingSettings())
    if not isinstance(decision, Booking):
        return None
    total = Decimal(str(order["price"]["total"]))
    if decision.kind == "credit":
        total = -abs(total)
    return tuple(m.soort.value for m in decision.mutations), total


class Driver(threading.Thread):
    """Changes each order's status at its moment (uniform over the run), recording when."""

    def __init__(
        self, stack: Stack, schedule: list[tuple[float, int, dict[str, Any]]], duration: float
    ) -> None:
        super().__init__(name="scale-driver", daemon=True)
        self.stack, self.schedule, self.duration = stack, schedule, duration
        self.changed: dict[tuple[int, str], float] = {}
        self.errors = 0

    def run(self) -> None:
        import requests

        session = requests.Session()
        start = time.time()
        for offset, index, order in self.schedule:
            delay = start + offset - time.time()
            if delay > 0:
                time.sleep(delay)
            shop = self.stack.shops[index]
            url = (
                f"{self.stack.mww_url}/_sandbox/shops/{shop.mww_token}/orders/"
                f"{order['number']}/status"
            )
            try:
                session.post(
                    url, json={"status": order["final_status"]}, timeout=30
                ).raise_for_status()
                self.changed[(shop.id, str(order["number"]))] = time.time()
            except Exception:
                self.errors += 1


def _sample(stack: Stack) -> dict[str, Any]:
    services = stack.services()
    with services.engine.connect() as conn:
        booked = int(
            conn.execute(text("SELECT count(*) FROM bookings WHERE state = 'booked'")).scalar_one()
        )
        pg = int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    info = stack.redis().info("memory")
    workers = [p for p in stack.workers() if p.alive()]
    rss = sum(rss_kib(p.pid) + sum(rss_kib(c) for c in descendants(p.pid)) for p in workers)
    return {
        "t": time.time(),
        "booked": booked,
        "pg_bytes": pg,
        "redis_bytes": int(info["used_memory"]),
        "workers_kib": rss,
    }


def run(
    config: ScaleConfig | None = None,
    log: Any = print,
    on_start: Callable[[Stack], Any] | None = None,
) -> dict[str, Any]:
    """``on_start``: called with the stack when the clock starts (bench.capacity's
    sampler)."""
    config = config or ScaleConfig()
    env = {
        "POLL_INTERVAL_SECONDS": str(config.poll_real),
        "RECONCILE_INTERVAL_SECONDS": str(
            max(2, round(config.hourly_seconds / config.compression))
        ),
        "POLL_IDLE_MAX_SECONDS": str(config.idle_max_real),
        "WORKER_MODE": "simple",
        **config.extra,
    }
    rng = random.Random(config.seed)
    with Stack(
        "bench-scale",
        workers=config.workers,
        clock=False,
        shops=config.shops + config.idle_shops,
        latency=0.0,
        env=env,
    ) as stack:
        log(
            f"  scale: {config.shops} shops × {config.orders_per_shop} orders over "
            f"{config.duration:.0f} s (×{config.compression:g}: "
            f"{config.duration * config.compression / 3600:.2f} simulated h), "
            f"poll every {config.poll_real} s"
        )
        expected: dict[tuple[int, str], tuple[tuple[str, ...], Decimal]] = {}
        schedule = []
        first_time: set[str] = set()  # relation codes of first-time customers
        returning = 0
        for index, shop in enumerate(stack.shops[: config.shops]):  # the idle ones: none
            orders = _orders_for(config, index)
            returning += seed_returning_customers(stack, shop, orders)
            first_time |= {
                f"{shop.id}:{r.code}"
                for r in (relation_of(o) for o in orders if o.get("first_time"))
                if r is not None
            }
            for order in orders:
                order.pop("first_time", None)
            for order in orders:
                exp = expected_total(order)
                if exp is not None:
                    expected[(shop.id, str(order["number"]))] = exp
                    schedule.append(
                        (
                            rng.uniform(0, config.duration),
                            index,
                            {"number": order["number"], "final_status": order["status"]},
                        )
                    )
            stack.add_orders(shop, [{**o, "status": STATUS_NEW} for o in orders])
        schedule.sort(key=lambda item: item[0])
        base_eb = eb_calls_total(stack)
        clock_started = time.time()
        for index in range(config.clocks):
            stack.start_clock(index)
        if on_start is not None:
            on_start(stack)
        samples = [_sample(stack)]
        driver = Driver(stack, schedule, config.duration)
        started = time.time()
        driver.start()
        deadline = started + config.duration + config.drain_timeout
        while time.time() < deadline:
            time.sleep(min(10.0, max(1.0, config.duration / 30)))
            samples.append(_sample(stack))
            if not driver.is_alive() and samples[-1]["booked"] >= len(expected):
                break
        driver.join(timeout=30)
        elapsed = time.time() - started
        samples.append(_sample(stack))
        log(f"  scale: {samples[-1]['booked']} of {len(expected)} booked in {elapsed:.0f} s")
        result = _figures(stack, config, expected, driver, samples, base_eb, elapsed)
        result["customers"] = {"returning_seeded": returning, "first_time": len(first_time)}
        result["redis_keys"] = redis_breakdown(stack)
        result["polling"] = polling_figures(stack, config, clock_started)
    return result


def run_pair(config: ScaleConfig | None = None, log: Any = print) -> dict[str, Any]:
    """The same configuration twice, on a fresh stack each: with the fixed poll of before
    (back-off off) and with adaptive polling; ``{"fixed": …, "adaptive": …}``."""
    config = config or ScaleConfig()
    out = {}
    for name, idle_max in (("fixed", config.poll_seconds), ("adaptive", config.idle_max_seconds)):
        log(f"  scale: {name} polling")
        out[name] = run(dataclasses.replace(config, idle_max_seconds=idle_max), log=log)
    return out


def polling_figures(stack: Stack, config: ScaleConfig, since: float) -> dict[str, Any]:
    """What the fast poll cost, from the passes each shop ran (the runs table: one listing
    call per pass of an idle shop, which has no orders to fetch) and every poll the clocks
    enqueued (RQ's registries): idle shops' Mijnwebwinkel calls per simulated day, over
    the whole run and once the back-off has settled (after the first simulated hour;
    every shop starts at the base interval), and the shortest time between two polls of
    one shop (two clocks must never poll a shop twice for one due time)."""
    idle_ids = {shop.id for shop in stack.shops[config.shops :]}
    settle = since + 3600 / config.compression
    with stack.services().engine.connect() as conn:
        rows = conn.execute(
            text("SELECT shop_id, mode, started_at FROM reconcile_runs ORDER BY started_at")
        ).all()
    passes: dict[int, list[float]] = defaultdict(list)
    modes: Counter[str] = Counter()
    for row in rows:
        if row.shop_id in idle_ids:
            at = row.started_at
            passes[row.shop_id].append((at if at.tzinfo else at.replace(tzinfo=dt.UTC)).timestamp())
            modes[row.mode] += 1

    def per_day(after: float) -> float | None:
        gaps = [
            later - earlier
            for times in passes.values()
            for earlier, later in itertools.pairwise([t for t in times if t >= after])
        ]
        if not gaps:
            return None
        return 86400 / (sum(gaps) / len(gaps) * config.compression)

    polls = poll_enqueues(stack)
    gaps = [
        later - earlier
        for times in polls.values()
        for earlier, later in itertools.pairwise(sorted(times))
    ]
    return {
        "idle_shops": len(idle_ids),
        "idle_passes": dict(modes),
        "idle_calls_per_day": per_day(since),
        "idle_calls_per_day_settled": per_day(settle),
        "poll_real": config.poll_real,
        "idle_max_real": config.idle_max_real,
        "polls_enqueued": sum(len(t) for t in polls.values()),
        "min_poll_gap_s": min(gaps) if gaps else None,
    }


def poll_enqueues(stack: Stack) -> dict[int, list[float]]:
    """Every fast poll the clocks enqueued, per shop (enqueue times, epoch seconds), read
    from RQ's queue and registries (finished jobs are kept ``RECONCILE_RESULT_TTL``)."""
    from rq.job import Job
    from rq.registry import FailedJobRegistry, FinishedJobRegistry, StartedJobRegistry
    from rq.serializers import JSONSerializer

    from app.jobs.queue import RECONCILE_SHOP, get_queue

    redis = stack.redis()
    queue = get_queue(redis, stack.env.get("QUEUE_NAME", "bookings"))
    ids = list(queue.get_job_ids())
    for registry in (FinishedJobRegistry, FailedJobRegistry, StartedJobRegistry):
        ids += registry(queue=queue).get_job_ids()
    # A job that moves on while we read (queued, then started, then finished) is seen in
    # two of them: count each job once.
    ids = list(dict.fromkeys(ids))
    out: dict[int, list[float]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        for job in Job.fetch_many(ids[start : start + 500], redis, serializer=JSONSerializer):
            if job is None or job.func_name != RECONCILE_SHOP or job.enqueued_at is None:
                continue
            shop_id, mode = job.args
            if mode == "poll":
                at = job.enqueued_at
                out[int(shop_id)].append(
                    (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).timestamp()
                )
    return out


def redis_breakdown(stack: Stack) -> dict[str, dict[str, int]]:
    """Keys and bytes (``MEMORY USAGE``) by what they are: RQ's finished jobs and their
    results expire (``BOOKING_RESULT_TTL``); the connector's own keys are what stays."""
    groups = {"rq:job:": "rq_jobs", "rq:results:": "rq_results", "mww:": "connector"}
    redis = stack.redis()
    out: dict[str, dict[str, int]] = {}
    keys = list(redis.scan_iter(count=1000))
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        pipe = redis.pipeline(transaction=False)
        for key in chunk:
            pipe.memory_usage(key)
        for key, size in zip(chunk, pipe.execute(), strict=True):
            name = key.decode() if isinstance(key, bytes) else key
            group = next((g for prefix, g in groups.items() if name.startswith(prefix)), "rq_other")
            entry = out.setdefault(group, {"keys": 0, "bytes": 0})
            entry["keys"] += 1
            entry["bytes"] += int(size or 0)
    return out


def eb_calls_total(stack: Stack) -> Counter[str]:
    """e-Boekhouden calls by operation, over every administration in the simulator (the
    adapter hook: see ``bench.e2e.OPERATIONS``)."""
    calls: Counter[str] = Counter()
    for admin in stack.eb_state()["administrations"].values():
        calls.update({op: int(n) for op, n in admin["calls"].items()})
    return calls


def _mww_calls(stack: Stack) -> Counter[str]:
    import re

    calls: Counter[str] = Counter()
    for match in re.finditer(
        r"^mww_upstream_calls_total\{([^}]*)\} ([0-9.e+]+)$", stack.metrics_text(), re.M
    ):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        if labels.get("system") == "mijnwebwinkel":
            calls[labels.get("operation", "?")] += int(float(match.group(2)))
    return calls


def check_invariants(
    stack: Stack, expected: dict[tuple[int, str], tuple[tuple[str, ...], Decimal]]
) -> tuple[list[str], dict[tuple[int, str], float]]:
    """Every expected order booked exactly once (each mutation kind once), each mutation's
    total equal to the order's to the cent, no other mutation; returns (violations,
    booked_at per order as epoch seconds)."""
    failures: list[str] = []
    state = stack.eb_state()
    mutations: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for shop in stack.shops:
        for mutation in state["administrations"][shop.eb_username]["mutations"]:
            mutations[(shop.id, str(mutation.get("Factuurnummer") or ""))].append(mutation)
    with stack.services().engine.connect() as conn:
        rows = {
            (r.shop_id, r.order_number): r
            for r in conn.execute(
                text(
                    "SELECT shop_id, order_number, state, mutation_number, booked_at FROM bookings"
                )
            )
        }
    booked_at: dict[tuple[int, str], float] = {}
    for key, (soorts, total) in expected.items():
        row, booked = rows.get(key), mutations.get(key, [])
        if row is None or row.state != "booked":
            failures.append(
                f"shop {key[0]} order {key[1]}: {row.state if row else 'not in the register'}"
            )
            continue
        if Counter(str(m["Soort"]) for m in booked) != Counter(soorts):
            failures.append(
                f"shop {key[0]} order {key[1]}: {len(booked)} mutation(s), "
                f"expected {list(soorts)} once each"
            )
            continue
        for mutation in booked:
            amount = sum(
                (Decimal(str(r["BedragInclBTW"])) for r in mutation["MutatieRegels"]), Decimal("0")
            )
            if amount != total:
                failures.append(f"shop {key[0]} order {key[1]}: {amount} booked, the order {total}")
        at = row.booked_at
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        booked_at[key] = at.timestamp()
    failures += [
        f"shop {k[0]} order {k[1]}: booked but not expected" for k in mutations if k not in expected
    ]
    return failures, booked_at


def _figures(
    stack: Stack,
    config: ScaleConfig,
    expected: dict[Any, Any],
    driver: Driver,
    samples: list[dict[str, Any]],
    base_eb: Counter[str],
    elapsed: float,
) -> dict[str, Any]:
    failures, booked_at = check_invariants(stack, expected)
    lags = sorted(booked_at[k] - driver.changed[k] for k in booked_at if k in driver.changed)
    first_change: dict[int, float] = {}
    for (shop_id, _), at in driver.changed.items():
        first_change[shop_id] = min(at, first_change.get(shop_id, at))
    warm = sorted(  # a shop's first order waits for a poll that may have backed off
        booked_at[k] - driver.changed[k]
        for k in booked_at
        if k in driver.changed and driver.changed[k] > first_change[k[0]]
    )
    eb = eb_calls_total(stack)
    eb.subtract(base_eb)
    mww = _mww_calls(stack)
    booked = len(booked_at)
    sim_hours = elapsed * config.compression / 3600
    first, last = samples[0], samples[-1]
    per_100k = 100_000 / booked if booked else float("nan")
    busy = [s for s in samples if s["workers_kib"]]
    return {
        "config": {
            **config.__dict__,
            "orders_per_shop": config.orders_per_shop,
            "poll_real": config.poll_real,
        },
        "orders": len(expected),
        "booked": booked,
        "violations": failures[:20],
        "violation_count": len(failures),
        "driver_errors": driver.errors,
        "elapsed_s": elapsed,
        "simulated_hours": sim_hours,
        "lag_s": {
            "p50": load.percentile(lags, 50) if lags else None,
            "p99": load.percentile(lags, 99) if lags else None,
            "max": lags[-1] if lags else None,
        },
        "lag_s_warm": {
            "p50": load.percentile(warm, 50) if warm else None,
            "p99": load.percentile(warm, 99) if warm else None,
            "max": warm[-1] if warm else None,
        },
        "mww_calls": dict(mww),
        "mww_per_shop_hour": (
            sum(mww.values()) / (config.shops + config.idle_shops) / sim_hours
            if sim_hours
            else None
        ),
        "eb_calls": {k: v for k, v in eb.items() if v},
        "eb_per_order": sum(eb.values()) / booked if booked else None,
        "redis_per_100k": (last["redis_bytes"] - first["redis_bytes"]) * per_100k,
        "pg_per_100k": (last["pg_bytes"] - first["pg_bytes"]) * per_100k,
        "samples": samples,
        "workers_kib": {
            "first": busy[1]["workers_kib"] if len(busy) > 1 else None,
            "last": busy[-1]["workers_kib"] if busy else None,
            "max": max(s["workers_kib"] for s in busy) if busy else None,
        },
    }
