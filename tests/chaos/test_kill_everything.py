"""Every process killed under load, the database crashed, Redis wiped: nothing lost,
nothing booked twice (issue 26; part of ``make chaos``).

The whole system (``bench.stack``) on a PostgreSQL server of the test's own
(tests/chaos/postgres.py), so it can be crashed without touching the shared one. Two
shops with the same order numbers, one booking through SOAP and one through REST under
its own invoice-number format (``W2-{number}``), and beside them two shops that cannot
be read (one stored under another ``ENCRYPTION_KEY``, one with damaged settings): the
"one tenant's bad data" case. Orders arrive in batches while, one after another:

    the web process is SIGKILLed · a worker is SIGKILLed (with its work horse) · the
    clock is SIGKILLed · PostgreSQL crashes (immediate shutdown) and comes back after a
    few seconds · Redis is SIGKILLed and restarted empty

(a supervisor, like a dyno manager, restarts the killed processes). Most orders are
announced by a webhook whose sender retries, the rest only the poll finds. Afterwards:
every order booked exactly once in its shop's e-Boekhouden, to the cent, under the
shop's own invoice number; every notification answered 202 in the end; the unreadable
shops skipped (no pass, no booking) while the clock kept polling the others.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from bench.orders import make_orders
from bench.stack import ShopInfo, Stack, redis_server_binary, wait_until
from tests.chaos import postgres
from tests.chaos.helpers import (
    CHAOS_ENV,
    CHAOS_ORDERS,
    CHAOS_SETTLE_SECONDS,
    Sender,
    expectation,
    ledger_rows,
    reconcile_runs,
)

pytestmark = pytest.mark.slow
ORDERS_PER_SHOP = max(12, CHAOS_ORDERS // 8)  # 15 a shop in the normal suite, 62 in make chaos
BATCHES = 6
PG_OUTAGE_SECONDS = 5.0
FORMAT = "W2-{number}"  # the REST shop's own invoice numbers


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Stack, postgres.PrivatePostgres]]:
    if os.environ.get("TEST_BACKENDS") == "embedded":
        pytest.skip("TEST_BACKENDS=embedded: the chaos suite needs PostgreSQL and Redis")
    reason = postgres.unavailable() or (
        None if redis_server_binary() else "redis-server is not on PATH"
    )
    if reason:
        pytest.skip(f"the kill run needs its own PostgreSQL and redis-server: {reason}")
    pg = postgres.PrivatePostgres().start()
    stack = Stack(
        "chaos-kill",
        workers=2,
        shops=2,
        latency=0.01,
        supervise=True,
        env=CHAOS_ENV,
        keep_logs=True,
        eb_apis="mixed",  # the second shop books through REST
        pg_admin_url=pg.admin_url,
    )
    try:
        stack.start()
        yield stack, pg
    finally:
        stack.stop()
        if stack.run_dir.exists():
            shutil.copytree(
                stack.run_dir,
                tmp_path / "logs",
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("metrics", "redis"),
            )
            if os.environ.get("CHAOS_KEEP_LOGS") != "1":
                shutil.rmtree(stack.run_dir, ignore_errors=True)
        pg.stop()


def prepare_shops(stack: Stack) -> list[int]:
    """The REST shop's own invoice format; two unreadable shops beside the two good
    ones. Returns the unreadable shops' ids."""
    from dataclasses import replace

    from sqlalchemy import update

    from app.crypto import Vault, generate_key
    from app.states import ShopStatus
    from app.store.db import shops
    from app.store.shops import Credentials, ShopStore

    store = stack.services().store.shops
    rest = stack.shops[1]
    loaded = store.get(rest.id)
    assert loaded is not None
    store.save_mapping(rest.id, replace(loaded.mapping, invoice_format=FORMAT))
    creds = Credentials("tok-x", "boekhouderx", "code1", "code2")
    foreign = ShopStore(stack.services().engine, Vault(generate_key()))
    other_key, _ = foreign.register(
        name="Oude sleutel", credentials=creds, status=ShopStatus.ACTIVE
    )
    damaged, _ = store.register(name="Beschadigd", credentials=creds, status=ShopStatus.ACTIVE)
    with stack.services().engine.begin() as conn:
        conn.execute(update(shops).where(shops.c.id == damaged).values(mapping={"rules": 7}))
    return [other_key, damaged]


def invoice(shop: ShopInfo, number: str, rest: ShopInfo) -> str:
    return FORMAT.replace("{number}", number) if shop.id == rest.id else number


def settled(stack: Stack, wanted: dict[tuple[int, str], Any]) -> bool:
    booked = {(r.shop_id, r.order_number) for r in ledger_rows(stack) if r.state == "booked"}
    return set(wanted) <= booked


def test_nothing_lost_nothing_twice_when_everything_is_killed(
    stack: tuple[Stack, postgres.PrivatePostgres],
) -> None:
    system, pg = stack
    unreadable = prepare_shops(system)
    soap, rest = system.shops
    sender = Sender(system)
    events: Counter[str] = Counter()
    orders: dict[tuple[int, str], dict[str, Any]] = {}
    for shop in (soap, rest):  # the same order numbers in both shops
        for order in make_orders(
            ORDERS_PER_SHOP, seed=f"kill-{shop.id}", start_number=3001, kinds=["domestic"], status=3
        ):
            orders[(shop.id, str(order["number"]))] = order
    expect = {key: expectation(order) for key, order in orders.items()}
    assert all(e.outcome == "book" for e in expect.values())
    keys = sorted(orders)
    batches = [keys[i::BATCHES] for i in range(BATCHES)]
    by_id = {soap.id: soap, rest.id: rest}

    def kill_web() -> None:
        system.procs["web"].kill()
        system.procs["web"].expected_down = False  # the supervisor restarts it

    def kill_worker() -> None:
        system.kill_worker(0, restart=False)
        system.procs["worker.1"].expected_down = False

    def kill_clock() -> None:
        system.procs["clock"].kill()
        system.procs["clock"].expected_down = False

    faults = [
        ("web SIGKILLed", kill_web),
        ("worker SIGKILLed (with its work horse)", kill_worker),
        ("clock SIGKILLed", kill_clock),
        (
            f"PostgreSQL crashed, back after {PG_OUTAGE_SECONDS:.0f} s",
            lambda: pg.restart_after(PG_OUTAGE_SECONDS),
        ),
        ("Redis SIGKILLed and restarted empty", system.restart_redis),
        ("(none: the last batch arrives after the faults)", lambda: None),
    ]
    pool = cf.ThreadPoolExecutor(8)
    futures: list[cf.Future[Any]] = []
    for index, (batch, (label, fault)) in enumerate(zip(batches, faults, strict=True)):
        for shop in (soap, rest):
            mine = [orders[k] for k in batch if k[0] == shop.id]
            if mine:
                system.add_orders(shop, mine)
        for n, key in enumerate(batch):
            if n % 5 == 4:  # one in five only the poll finds
                events["orders left for the poll"] += 1
                continue
            futures.append(pool.submit(sender.genuine, by_id[key[0]], key[1]))
        answered = len(sender.sent)
        wait_until(  # the batch is on its way when the fault strikes
            lambda n=answered: len(sender.sent) > n, 30, "a first answer of the batch"
        )
        fault()
        events[label] += 1
        print(f"kill run: batch {index + 1}: {label}", flush=True)
    for future in futures:
        future.result(timeout=300)
    pool.shutdown()
    last_fault = time.time()

    deadline = time.monotonic() + CHAOS_SETTLE_SECONDS
    while time.monotonic() < deadline and not settled(system, expect):
        time.sleep(1.0)
    rows = ledger_rows(system)
    missing = sorted(
        set(expect) - {(r.shop_id, r.order_number) for r in rows if r.state == "booked"}
    )
    assert not missing, f"not booked after {CHAOS_SETTLE_SECONDS:.0f} s: {missing[:20]}"

    # Exactly once, to the cent, under the shop's own invoice number.
    failures = []
    for shop in (soap, rest):
        mutations = system.eb_admin(shop)["mutations"]
        counted = Counter(str(m["Factuurnummer"]) for m in mutations)
        for (shop_id, number), exp in expect.items():
            if shop_id != shop.id:
                continue
            wanted = invoice(shop, number, rest)
            if counted[wanted] != 1:
                failures.append(f"{shop.eb_api} {wanted}: {counted[wanted]} mutations")
                continue
            [mutation] = [m for m in mutations if str(m["Factuurnummer"]) == wanted]
            total = sum(
                (Decimal(str(r["BedragInclBTW"])) for r in mutation["MutatieRegels"]), Decimal(0)
            )
            if total != exp.total:
                failures.append(f"{shop.eb_api} {wanted}: {total} booked, order {exp.total}")
        extra = set(counted) - {invoice(shop, n, rest) for (s, n) in expect if s == shop.id}
        failures += [f"{shop.eb_api}: unexpected mutation {n}" for n in sorted(extra)]
    assert not failures, failures

    # Every notification got its 202 in the end (the sender retried 5xx and lost
    # connections); none was lost.
    statuses = Counter(s.status for s in sender.sent)
    assert set(statuses) == {202}, statuses

    # The unreadable shops: skipped, never passed nor booked; the clock went on for the
    # others after every fault.
    runs = reconcile_runs(system)
    assert not [r for r in runs if r.shop_id in unreadable]
    assert not [r for r in rows if r.shop_id in unreadable]
    for shop in (soap, rest):
        assert any(
            r.shop_id == shop.id and r.started_at.timestamp() > last_fault - 1 for r in runs
        ), f"no pass of shop {shop.id} after the faults"
    assert requests.get(f"{system.web_url}/healthz", timeout=10).status_code == 200
    for name in ("web", "worker.1", "worker.2", "clock"):
        assert system.procs[name].alive(), f"{name} is not running:\n{system.procs[name].tail()}"
    print(
        f"kill run: {len(expect)} orders over 2 shops (SOAP; REST with {FORMAT}) booked "
        f"exactly once; faults {dict(events)}; notifications {dict(statuses)} "
        f"({dict(sender.counts)}); restarts {system.counters}; "
        f"PostgreSQL crashes {pg.crashes}; {len(unreadable)} unreadable shops skipped",
        flush=True,
    )
