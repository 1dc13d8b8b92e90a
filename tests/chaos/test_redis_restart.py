"""Issue 15 point 6 under load: Redis goes away for a few seconds (longer than redis-py's
own retries) and comes back empty, while notifications stream in, workers post and the
clock runs. No process is restarted by anyone (no supervisor): afterwards every one of
them still works: the web answers and queues, both workers book, the clock enqueues its
passes, and every order is booked exactly once.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bench.orders import make_orders
from bench.stack import ShopInfo, Stack, services_unavailable
from tests.chaos.helpers import CHAOS_ENV, Sender, expectation, ledger_rows, reconcile_runs

pytestmark = pytest.mark.slow
OUTAGE_SECONDS = 8.0  # redis-py's default retries span about 4 s


@pytest.fixture
def unsupervised_stack(tmp_path: Path) -> Iterator[Stack]:
    if os.environ.get("TEST_BACKENDS") == "embedded":
        pytest.skip("TEST_BACKENDS=embedded: the chaos suite needs PostgreSQL and Redis")
    reason = services_unavailable()
    if reason:
        pytest.skip(f"the chaos suite needs PostgreSQL and redis-server: {reason}")
    stack = Stack(
        "chaos-redis",
        workers=2,
        shops=1,
        latency=0.01,
        supervise=False,
        env=CHAOS_ENV,
        keep_logs=True,
    )
    try:
        stack.start()
        yield stack
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


def wait_for(check: Any, timeout: float, what: str, stack: Stack) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # Redis or the web still settling: look again
            pass
        time.sleep(0.1)
    logs = "\n".join(f"--- {name}\n{text[-1500:]}" for name, text in stack.logs().items())
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{logs}")


def booked(stack: Stack, numbers: set[str]) -> set[str]:
    return {
        r.order_number
        for r in ledger_rows(stack)
        if r.state == "booked" and r.order_number in numbers
    }


def test_every_process_keeps_working_after_a_redis_restart_under_load(
    unsupervised_stack: Stack,
) -> None:
    stack = unsupervised_stack
    shop: ShopInfo = stack.shops[0]
    sender = Sender(stack)
    before = make_orders(40, seed="redis-restart", start_number=1001, kinds=["domestic"], status=3)
    after = make_orders(
        10, seed="redis-restart-after", start_number=2001, kinds=["domestic"], status=3
    )
    assert all(expectation(o).outcome == "book" for o in before + after)
    stack.add_orders(shop, before)
    # Slow postings, so jobs wait in the queue and workers are busy when Redis goes.
    stack.faults(
        "eb", {"add": [{"kind": "latency", "seconds": 0.5, "operation": "AddMutatie", "times": 15}]}
    )

    with cf.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(sender.genuine, shop, str(o["number"])) for o in before]
        # Redis goes once jobs wait in the queue (the postings are slow).
        wait_for(
            lambda: stack.redis().llen("rq:queue:bookings") >= 5,
            30,
            "jobs waiting in the queue",
            stack,
        )
        queued_at_outage = stack.redis().llen("rq:queue:bookings")
        stack.procs["redis"].kill()
        outage_started = dt.datetime.now(dt.UTC)
        time.sleep(OUTAGE_SECONDS)
        health_during = requests.get(f"{stack.web_url}/healthz", timeout=10).status_code
        stack.start_redis()  # on the same port, empty
        restarted = dt.datetime.now(dt.UTC)
        for future in futures:
            future.result(timeout=120)
    statuses = Counter(s.status for s in sender.sent)
    print(
        f"redis restart: {queued_at_outage} jobs queued when Redis went away for "
        f"{OUTAGE_SECONDS:.0f}s; /healthz during the outage {health_during}; "
        f"notification answers {dict(statuses)}",
        flush=True,
    )
    assert health_during == 503
    assert set(statuses) <= {202, 503}, statuses  # never a 500

    # Nobody restarted anything: each process is the one started at the beginning.
    for name in ("web", "worker.1", "worker.2", "clock"):
        proc = stack.procs[name]
        assert proc.alive() and proc.starts == 1, f"{name} died:\n{proc.tail()}"

    # Both workers joined the new Redis; the web answers; the clock enqueues again.
    from rq import Worker

    wait_for(
        lambda: len(Worker.all(connection=stack.redis())) >= 2,
        60,
        "both workers registered in the new Redis",
        stack,
    )
    assert requests.get(f"{stack.web_url}/healthz", timeout=10).status_code == 200
    wait_for(
        lambda: any(r.started_at >= restarted for r in reconcile_runs(stack)),
        90,
        "a reconcile pass the clock enqueued after the restart",
        stack,
    )

    # What the outage lost (queued jobs, scheduled retries, 503s) the poll picks up.
    numbers = {str(o["number"]) for o in before}
    wait_for(
        lambda: booked(stack, numbers) == numbers,
        180,
        "every order notified around the outage to be booked",
        stack,
    )

    # New notifications after the restart are queued and booked at once.
    stack.add_orders(shop, after)
    fresh = {str(o["number"]) for o in after}
    answers = [stack.notify(shop, number).status_code for number in sorted(fresh)]
    assert answers == [202] * len(fresh)
    wait_for(
        lambda: booked(stack, fresh) == fresh,
        60,
        "the orders notified after the restart to be booked",
        stack,
    )

    # Exactly once: each order's mutations in e-Boekhouden, no more.
    wanted = {str(o["number"]): len(expectation(o).soorts) for o in before + after}
    invoices = Counter(
        str(m.get("Factuurnummer"))
        for m in stack.eb_state()["administrations"][shop.eb_username]["mutations"]
    )
    assert invoices == Counter(wanted), {
        k: (invoices[k], n) for k, n in wanted.items() if invoices[k] != n
    }
    for name in ("web", "worker.1", "worker.2", "clock"):
        assert stack.procs[name].alive() and stack.procs[name].starts == 1, name
    print(
        f"redis restart: outage {outage_started:%H:%M:%S}–{restarted:%H:%M:%S}; all "
        f"{len(numbers | fresh)} orders booked once; web, 2 workers and clock kept "
        "running",
        flush=True,
    )
    assert stack.stop() == []
