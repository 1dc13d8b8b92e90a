"""Benchmark 5 — worker efficiency: booked orders per second per worker process.

The simulators with no added latency, one worker process at a time (the Procfile's
``worker`` command) draining a queue of orders enqueued straight onto it, once with
``WORKER_MODE=simple`` (jobs in the worker process) and once with ``WORKER_MODE=fork``
(RQ's HerokuWorker: a work horse forked per job). Baseline ("floor"): the same
Mijnwebwinkel and e-Boekhouden calls a booking makes — GetOrder, then AddMutatie —
made in a loop by this one process through the connector's own clients. Rounds
alternate the order of the three; figures are medians over rounds.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass
from typing import Any

from bench import load
from bench.e2e import booked_count, wait_booked
from bench.orders import make_orders
from bench.stack import Stack, wait_until

MODES = ("simple", "fork")


@dataclass
class WorkersConfig:
    orders: int = 400  # per round and mode
    rounds: int = 3
    warmup: int = 60


def _start_worker(stack: Stack, mode: str, name: str) -> Any:
    from rq import Worker

    argv = shlex.split(stack.procfile()["worker"])
    proc = stack._spawn(name, argv, "worker", {**stack.env, "WORKER_MODE": mode})
    wait_until(
        lambda: len(Worker.all(connection=stack.redis())) >= 1, 60, f"{mode} worker", interval=0.1
    )
    return proc


def _stop_worker(stack: Stack, proc: Any) -> None:
    from rq import Worker

    proc.stop()
    wait_until(lambda: not Worker.all(connection=stack.redis()), 30, "worker gone", interval=0.1)


def drain(stack: Stack, mode: str, numbers: list[str], name: str) -> float:
    """Bookings per second of one ``mode`` worker over ``numbers`` (already in the
    simulator): the worker is started and registered first, so start-up is not counted."""
    from app.jobs.queue import enqueue_booking

    shop = stack.shops[0]
    services = stack.services()
    proc = _start_worker(stack, mode, name)
    try:
        before = booked_count(stack, shop.id)
        started = time.monotonic()
        for number in numbers:
            enqueue_booking(services.queue, shop.id, number, source="bench")
        wait_booked(stack, shop.id, before + len(numbers), timeout=1800)
        return len(numbers) / (time.monotonic() - started)
    finally:
        _stop_worker(stack, proc)


def floor(stack: Stack, numbers: list[str]) -> float:
    """Orders per second: GetOrder + AddMutatie per order, in a loop, in this process,
    through the connector's clients (AddMutatie on an administration of its own)."""
    from app.clients.eboekhouden import EBoekhoudenClient
    from app.core.mapping import Booking, map_order
    from app.core.mapping_settings import MappingSettings

    services = stack.services()
    shop = services.load_shop(stack.shops[0].id)
    answer = stack._http.post(
        f"{stack.eb_base}/_sandbox/administrations",
        timeout=30,
        json={"username": "floor-admin", "code1": "floor-code-1", "code2": "FLOOR-0002"},
    )
    answer.raise_for_status()
    eb = EBoekhoudenClient(
        "floor-admin",
        "floor-code-1",
        "FLOOR-0002",
        url=stack.eb_soap_url,
        timeout=10,
        operation_timeout=30,
    )
    mww = services.shop_api(shop)
    # Relations first, outside the timing: a returning customer costs no relation call.
    mutations = []
    known: set[str] = set()
    for number in numbers:
        booking = map_order(mww.get_order(number), MappingSettings())
        assert isinstance(booking, Booking)
        if booking.relation.code not in known:
            if eb.find_relation(booking.relation.code) is None:
                eb.add_relation(booking.relation)
            known.add(booking.relation.code)
    started = time.monotonic()
    for number in numbers:
        booking = map_order(mww.get_order(number), MappingSettings())
        assert isinstance(booking, Booking)
        mutations.append(eb.add_mutation(booking.mutations[0].with_relation(booking.relation.code)))
    rate = len(numbers) / (time.monotonic() - started)
    eb.close()
    return rate


def noop_job(shop_id: int, order_number: str) -> dict[str, object]:
    """A job that does nothing: what RQ and the worker cost on their own."""
    return {"status": "booked", "order_number": order_number}


def step_costs(stack: Stack, n: int = 300) -> dict[str, float]:
    """Milliseconds per job of the parts a booking adds to the floor's calls, each timed
    on its own in this process (median of 3 × ``n``): RQ and the worker class (a no-op
    job through ``BookingWorker``), the shop's row, and the ledger's claim and booked
    mark (two commits, the workers' pool settings)."""
    import datetime as dt
    from decimal import Decimal

    from rq import Queue
    from rq.serializers import JSONSerializer

    from app.jobs.workers import BookingWorker
    from app.store import Store
    from app.store.booking_records import Claim, OrderFacts
    from app.store.engine import engine_for
    from app.store.history_records import BookedRow

    services = stack.services()
    shop = stack.shops[0]
    store = Store(engine_for(stack.env["DATABASE_URL"], pre_ping=False), services.vault)
    redis = stack.redis()
    counter = iter(range(10**9))

    def rq_noop() -> float:
        queue = Queue("bench-noop", connection=redis, serializer=JSONSerializer)
        for i in range(n):
            queue.enqueue(noop_job, shop.id, str(i), result_ttl=3600)
        worker = BookingWorker([queue], connection=redis, serializer=JSONSerializer)
        started = time.perf_counter()
        worker.work(burst=True, logging_level="WARNING")
        return (time.perf_counter() - started) / n * 1000

    def timed(step: Any) -> float:
        started = time.perf_counter()
        for _ in range(n):
            step()
        return (time.perf_counter() - started) / n * 1000

    row = BookedRow(
        soort="FactuurVerstuurd",
        date=dt.date(2026, 1, 5),
        ledger="8010",
        btw_code="HOOG_VERK_21",
        excl=Decimal("10.00"),
        vat=Decimal("2.10"),
        incl=Decimal("12.10"),
        invoice_number="x",
        mutation_number=1,
    )

    def ledger() -> None:
        number = str(9_000_000 + next(counter))
        claim = store.bookings.claim(
            shop.id,
            number,
            OrderFacts(
                f"bench-{number}",
                "sale",
                Decimal("12.10"),
                dt.date(2026, 1, 5),
                invoice_number=number,
            ),
            lease_seconds=60,
        )
        assert isinstance(claim, Claim)
        store.bookings.mark_booked(
            claim.booking_id,
            shop_id=shop.id,
            mutation_number=1,
            payment_mutation_number=None,
            relation_code="R",
            rows=[row, row],
            first_attempt=True,
        )

    steps = {
        "RQ and the worker: a no-op job": rq_noop,
        "the shop's row (decrypted)": lambda: timed(lambda: store.shops.get(shop.id)),
        "the ledger: claim, then booked with its rows (2 commits)": lambda: timed(ledger),
    }
    for step in steps.values():  # warm
        step()
    return {name: load.median([step() for _ in range(3)]) for name, step in steps.items()}


def run(config: WorkersConfig | None = None, log: Any = print) -> dict[str, Any]:
    config = config or WorkersConfig()
    rates: dict[str, list[float]] = {"floor": [], **{m: [] for m in MODES}}
    with Stack("bench-workers", workers=0, clock=False, shops=1, latency=0.0) as stack:
        shop = stack.shops[0]
        number = 300_001
        total = config.warmup + config.rounds * (len(MODES) + 1) * config.orders
        orders = make_orders(
            total, seed="workers", start_number=number, kinds=("domestic",), status=3
        )
        stack.add_orders(shop, orders)
        numbers = [str(o["number"]) for o in orders]
        # Warm-up: the shop's customers become known relations (as in steady operation).
        warm, rest = numbers[: config.warmup], numbers[config.warmup :]
        drain(stack, "simple", warm, "worker.warm")
        log(f"  workers: warm-up booked {booked_count(stack, shop.id)}")
        for round_no in range(config.rounds):
            order = ("floor", *MODES) if round_no % 2 == 0 else (*reversed(MODES), "floor")
            for target in order:
                batch, rest = rest[: config.orders], rest[config.orders :]
                if target == "floor":
                    rate = floor(stack, batch)
                else:
                    rate = drain(stack, target, batch, f"worker.{target}.{round_no}")
                rates[target].append(rate)
                log(f"  workers round {round_no + 1} {target:<6}: {rate:6.1f} orders/s")
        steps = step_costs(stack)
        for name, ms in steps.items():
            log(f"  workers step: {name}: {ms:.2f} ms")
    floor_rate = load.median(rates["floor"])
    out: dict[str, Any] = {
        "config": config.__dict__,
        "rates": rates,
        "floor": floor_rate,
        "steps_ms": steps,
    }
    for mode in MODES:
        ratios = [r / f for r, f in zip(rates[mode], rates["floor"], strict=True)]
        out[mode] = {"rate": load.median(rates[mode]), "ratio": load.median(ratios)}
    out["target_met"] = out["simple"]["ratio"] >= 0.5
    return out
