"""Fault injection on the whole system: booked exactly once, or accounted for.

Real PostgreSQL and Redis, gunicorn, two RQ workers, the clock and both simulators
(``bench.stack``). ``CHAOS_ORDERS`` orders (default 60 in ``make test``; ``make chaos``: 500) over
several shops arrive in batches; each batch runs under one fault:

    e-Boekhouden 503s and timeouts for a period · commit-then-drop answers · session
    expiry · Mijnwebwinkel 429s · a worker SIGKILLed while posting (and a work horse) ·
    Redis restarted with its data lost · the same notification ×10 concurrently · a
    reconcile pass racing the webhooks

with bad and forged notifications mixed into every batch and some orders left for the
poll. After the faults stop the system gets time to settle, then the suite checks and
prints: every bookable order booked exactly once in the e-Boekhouden simulator, each
mutation's total equal to its order's, every skipped or failed order accounted for with
a reason, no forged notification enqueued, and the counts of each fault injected.
Invariants are asserted; timings are not.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import os
import random
import signal
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bench.orders import make_orders, shop_now
from bench.stack import ShopInfo, Stack
from tests.chaos.helpers import (
    CHAOS_ORDERS,
    CHAOS_SETTLE_SECONDS,
    HOSTILE_KINDS,
    Expectation,
    Sender,
    expectation,
    ledger_rows,
    metric_values,
    reconcile_runs,
    wait_quiet,
)

pytestmark = pytest.mark.slow

EB_LATENCY = 0.01
POLL_SHARE = 0.15  # bookable orders never announced: only the poll can find them
SETTLED_FOR_SECONDS = 3.0  # nothing pending for this long: the run has settled

Key = tuple[int, str]  # (shop id, order number)


class Run:
    """The scenario's state: orders, expectations, what was sent and injected."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.sender = Sender(stack)
        self.rng = random.Random(f"chaos:{CHAOS_ORDERS}")
        self.orders: dict[Key, dict[str, Any]] = {}
        self.expect: dict[Key, Expectation] = {}
        self.notified: set[Key] = set()
        self.events: Counter[str] = Counter()
        self.redis_wipes: list[float] = []
        self.pool = cf.ThreadPoolExecutor(12)

    # -- faults -----------------------------------------------------------------------

    def eb(self, *faults: dict[str, Any], clear: bool = False) -> None:
        spec: dict[str, Any] = {"add": list(faults)}
        if clear:
            spec.update(clear=True, latency=EB_LATENCY)
        self.stack.faults("eb", spec)

    def mww(self, *faults: dict[str, Any], clear: bool = False) -> None:
        self.stack.faults("mww", {"add": list(faults), "clear": clear})

    def posting_in_flight(self) -> int:
        """Ledger rows a worker is posting right now (AddMutatie may be on the wire)."""
        now = dt.datetime.now(dt.UTC)
        return sum(
            1
            for row in ledger_rows(self.stack)
            if row.state == "posting"
            and row.uncertain
            and row.claimed_until
            and row.claimed_until > now
        )

    def send_through_the_period(self, batch: list[Any]) -> list[cf.Future[Any]]:
        """Send the batch while the phase's faults are on; ``drain`` then keeps them on
        until its jobs have run into them (their retries come after)."""
        futures = self.send_batch(batch)
        wait_all(futures)
        return futures

    def wait_for_posting(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            n = self.posting_in_flight()
            if n:
                return n
            time.sleep(0.05)
        return 0

    # -- a batch ---------------------------------------------------------------------

    def add_batch(self, batch: list[tuple[ShopInfo, dict[str, Any]]]) -> None:
        now = shop_now()
        by_shop: dict[int, list[dict[str, Any]]] = defaultdict(list)
        shops = {shop.id: shop for shop, _ in batch}
        for shop, order in batch:
            order["status_changed_date"] = now.date().isoformat()
            order["status_changed_time"] = now.strftime("%H:%M:%S")
            key = (shop.id, str(order["number"]))
            self.orders[key] = order
            self.expect[key] = expectation(order)
            by_shop[shop.id].append(order)
        for shop_id, orders in by_shop.items():
            self.stack.add_orders(shops[shop_id], orders)

    def send_batch(
        self,
        batch: list[tuple[ShopInfo, dict[str, Any]]],
        special: Callable[[list[Key]], list[cf.Future[Any]]] | None = None,
    ) -> list[cf.Future[Any]]:
        """Notify the batch (bookable orders: all but ``POLL_SHARE``), with bad and
        forged notifications mixed in; returns the futures."""
        jobs: list[Callable[[], Any]] = []
        bookable: list[Key] = []
        for shop, order in batch:
            key = (shop.id, str(order["number"]))
            if self.expect[key].outcome == "book":
                if self.rng.random() < POLL_SHARE:
                    self.events["orders left for the poll (never announced)"] += 1
                    continue
                bookable.append(key)
            self.notified.add(key)
            jobs.append(lambda s=shop, n=key[1]: self.sender.genuine(s, n))
        for i in range(max(2, len(batch) // 5)):
            shop = self.rng.choice(self.stack.shops)
            kind = HOSTILE_KINDS[(len(self.sender.refused) + i) % len(HOSTILE_KINDS)]
            jobs.append(lambda s=shop, k=kind: self.sender.hostile(self.stack.shops, s, k))
        extra = special(bookable) if special is not None else []
        self.rng.shuffle(jobs)
        return [self.pool.submit(job) for job in jobs] + extra

    def duplicates(self, bookable: list[Key]) -> list[cf.Future[Any]]:
        shops = {s.id: s for s in self.stack.shops}
        return [
            self.pool.submit(
                self.sender.concurrent_copies, shops[key[0]], key[1], 10, index % 2 == 0
            )
            for index, key in enumerate(bookable[:4])
        ]


def drain(run: Run, timeout: float = 30.0) -> None:
    """Until the queue is empty and nobody is posting (retries may still be scheduled)."""
    wait_quiet(run.stack, timeout)


def wait_all(futures: list[cf.Future[Any]]) -> None:
    for future in futures:
        future.result(timeout=300)


# --- phases ------------------------------------------------------------------------


def phase_clean(run: Run, batch: list[Any]) -> None:
    wait_all(run.send_batch(batch, special=run.duplicates))


def phase_eb_503(run: Run, batch: list[Any]) -> None:
    run.eb({"kind": "http_status", "status": 503, "times": None, "probability": 0.5})
    run.send_through_the_period(batch)  # the period: the batch's jobs run into it


def phase_eb_timeouts(run: Run, batch: list[Any]) -> None:
    # The simulator sleeps 5 s, then processes the call anyway (a slow server, not a
    # dead one); the connector gives up after 3 s.
    run.eb({"kind": "timeout", "seconds": 5, "times": None, "probability": 0.3})
    run.send_through_the_period(batch)


def phase_mww_429(run: Run, batch: list[Any]) -> None:
    run.mww(
        {"kind": "http_status", "status": 429, "retry_after": 1, "times": None, "probability": 0.3}
    )
    run.send_through_the_period(batch)


def phase_commit_then_drop(run: Run, batch: list[Any]) -> None:
    run.eb(
        {"kind": "commit_then_drop", "operation": "AddMutatie", "times": 5},
        {"kind": "commit_then_drop", "operation": "AddRelatie", "times": 2},
    )
    wait_all(run.send_batch(batch))


def phase_session_expiry(run: Run, batch: list[Any]) -> None:
    run.eb({"kind": "session_expired", "times": 3})
    run.events["e-Boekhouden sessions expired (all at once)"] += run.stack.expire_eb_sessions()
    rows = len(ledger_rows(run.stack))
    futures = run.send_batch(batch)
    # Again once the batch is being booked (its jobs opened new sessions).
    deadline = time.monotonic() + 20
    while len(ledger_rows(run.stack)) < rows + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    run.events["e-Boekhouden sessions expired (all at once)"] += run.stack.expire_eb_sessions()
    wait_all(futures)


def phase_worker_sigkill(run: Run, batch: list[Any]) -> None:
    # Slow AddMutatie calls, so a worker is surely inside one when it is killed.
    run.eb({"kind": "latency", "seconds": 1.5, "operation": "AddMutatie", "times": 8})
    futures = run.send_batch(batch)
    for index in range(2):
        in_flight = run.wait_for_posting()
        run.stack.kill_worker(index, restart=True)
        run.events["posts in flight when a worker was SIGKILLed"] += in_flight
    wait_all(futures)


def phase_horse_sigkill(run: Run, batch: list[Any]) -> None:
    run.eb({"kind": "latency", "seconds": 1.5, "operation": "AddMutatie", "times": 6})
    futures = run.send_batch(batch)
    in_flight = run.wait_for_posting()
    if run.stack.env.get("WORKER_MODE", "simple") != "fork":
        # WORKER_MODE=simple (the default): jobs run in the worker itself, there is no
        # work horse to kill (the worker SIGKILL phase covers that process).
        run.events["work horse phase without horses (WORKER_MODE=simple)"] += 1
        wait_all(futures)
        return
    killed = 0
    deadline = time.monotonic() + 10
    while not killed and time.monotonic() < deadline:
        for index, worker in enumerate(run.stack.workers()):
            if not worker.alive():
                continue
            for pid in run.stack.horse_pids(index)[:1]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
            if killed:
                break
        time.sleep(0.05)
    run.events["work horses SIGKILLed while posting"] += killed
    run.events["posts in flight when a horse was SIGKILLed"] += in_flight if killed else 0
    wait_all(futures)


def phase_redis_wipe(run: Run, batch: list[Any]) -> None:
    # Slow AddMutatie calls, so jobs pile up in the queue that the wipe then loses.
    run.eb({"kind": "latency", "seconds": 1.0, "operation": "AddMutatie", "times": 6})
    futures = run.send_batch(batch)
    # Until jobs wait in the queue (the workers are slow), or every notification is in.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not all(f.done() for f in futures):
        with contextlib.suppress(Exception):
            if run.stack.redis().llen("rq:queue:bookings") >= 3:
                break
        time.sleep(0.05)
    run.events["jobs waiting in the queue when Redis was wiped"] += run.stack.redis().llen(
        "rq:queue:bookings"
    )
    run.stack.restart_redis()
    run.redis_wipes.append(time.time())
    wait_all(futures)


def phase_reconcile_race(run: Run, batch: list[Any]) -> None:
    from app.booking.reconcile import MANUAL, run_pass

    services = run.stack.services()
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def passes(shop: ShopInfo) -> None:
        for _ in range(2):
            loaded = services.load_shop(shop.id)
            result = run_pass(services, loaded, mode=MANUAL)
            with lock:
                outcomes[result.outcome] += 1
            time.sleep(0.3)

    racers = [threading.Thread(target=passes, args=(shop,)) for shop in run.stack.shops]
    for racer in racers:
        racer.start()
    futures = run.send_batch(batch)
    for racer in racers:
        racer.join(timeout=120)
    wait_all(futures)
    for outcome, n in outcomes.items():
        run.events[f"reconcile passes racing the webhooks ({outcome})"] += n


PHASES: list[tuple[str, Callable[[Run, list[Any]], None]]] = [
    ("clean, with the same notification x10 concurrently", phase_clean),
    ("e-Boekhouden 503s for a period", phase_eb_503),
    ("Mijnwebwinkel 429s for a period", phase_mww_429),
    ("e-Boekhouden timeouts for a period", phase_eb_timeouts),
    ("commit-then-drop answers", phase_commit_then_drop),
    ("session expiry", phase_session_expiry),
    ("worker SIGKILL during posting", phase_worker_sigkill),
    ("Redis restarted with its data lost", phase_redis_wipe),
    ("a reconcile pass racing the webhooks", phase_reconcile_race),
    ("work horse SIGKILL during posting", phase_horse_sigkill),
    ("clean", phase_clean),
]


# --- settling and checking ---------------------------------------------------------


def pending(run: Run) -> list[str]:
    """What still keeps the run from being final (empty: settled)."""
    rows = {(r.shop_id, r.order_number): r for r in ledger_rows(run.stack)}
    problems = [
        f"{r.shop_id}/{r.order_number} {r.state}"
        for r in rows.values()
        if r.state in ("posting", "retrying")
    ]
    for key, exp in run.expect.items():
        row = rows.get(key)
        if exp.outcome == "book" and (row is None or row.state != "booked"):
            problems.append(f"{key[0]}/{key[1]} not booked yet ({row.state if row else 'no row'})")
        elif exp.outcome == "fail" and (row is None or row.state != "failed"):
            problems.append(f"{key[0]}/{key[1]} not failed yet ({row.state if row else 'no row'})")
    with contextlib.suppress(Exception):
        queued = run.stack.redis().llen("rq:queue:bookings")
        if queued:
            problems.append(f"{queued} jobs queued")
    return problems


def check(run: Run) -> tuple[list[str], dict[str, Any]]:
    """The invariants; returns (violations, figures for the report)."""
    stack = run.stack
    failures: list[str] = []
    rows = {(r.shop_id, r.order_number): r for r in ledger_rows(stack)}
    state, rest_state = stack.eb_state(), stack.rest_state()
    admin_of = {shop.id: shop.eb_username for shop in stack.shops}
    mutations: dict[Key, list[dict[str, Any]]] = defaultdict(list)
    for shop in stack.shops:  # SOAP and REST shops alike, in SOAP's field names
        for mutation in stack.eb_admin(shop, state, rest_state)["mutations"]:
            mutations[(shop.id, str(mutation.get("Factuurnummer") or ""))].append(mutation)
    runs = [r for r in reconcile_runs(stack) if r.outcome == "ok"]
    last_wipe = max(run.redis_wipes) if run.redis_wipes else 0.0
    accepted_at: dict[Key, float] = {}
    for sent in run.sender.sent:
        if sent.status == 202:
            key = (sent.shop_id, sent.number)
            accepted_at[key] = max(accepted_at.get(key, 0.0), sent.at)
    figures: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = {"skipped": Counter(), "failed": Counter()}

    for key, exp in run.expect.items():
        row, booked = rows.get(key), mutations.get(key, [])
        label = f"shop {key[0]} order {key[1]}"
        if exp.outcome == "book":
            figures["bookable orders"] += 1
            figures["... of which only the poll could find"] += key not in run.notified
            if row is None or row.state != "booked":
                where = row.state if row else "not in the register"
                failures.append(f"{label}: bookable but {where}")
                continue
            soorts = Counter(str(m["Soort"]) for m in booked)
            if soorts != Counter(exp.soorts):
                failures.append(
                    f"{label}: e-Boekhouden has {dict(soorts)}, expected each of "
                    f"{list(exp.soorts)} exactly once"
                )
                continue
            first = next(m for m in booked if m["Soort"] == exp.soorts[0])
            if int(first["MutatieNr"]) != row.mutation_number:
                failures.append(
                    f"{label}: ledger says mutation {row.mutation_number}, "
                    f"e-Boekhouden has {first['MutatieNr']}"
                )
            for mutation in booked:
                total = sum(
                    (Decimal(str(r["BedragInclBTW"])) for r in mutation["MutatieRegels"]),
                    Decimal("0"),
                )
                if total != exp.total:
                    failures.append(
                        f"{label}: mutation {mutation['MutatieNr']} totals {total}, "
                        f"the order {exp.total}"
                    )
            figures["booked exactly once, totals equal"] += 1
            continue
        if booked:
            failures.append(
                f"{label}: should not be booked ({exp.outcome}) but e-Boekhouden "
                f"has {len(booked)} mutation(s)"
            )
        if row is not None:
            want = "skipped" if exp.outcome == "skip" else "failed"
            if row.state != want:
                failures.append(f"{label}: expected {want}, ledger says {row.state}")
            elif not (row.reason or "").strip():
                failures.append(f"{label}: {row.state} without a reason")
            else:
                figures[f"{want} with a reason in the register"] += 1
                reasons[want][_reason_kind(row.reason)] += 1
            continue
        if exp.outcome == "fail":
            failures.append(f"{label}: cannot be booked but is not in the register as failed")
            continue
        if exp.test:  # never booked and, since issue 26, never recorded (nor queued)
            figures["test order, nothing recorded"] += 1
            continue
        # Skippable and never recorded: only acceptable if its job was lost with Redis.
        notified_at = accepted_at.get(key)
        if notified_at is None or notified_at > last_wipe:
            failures.append(f"{label}: not bookable, announced (202) but never recorded")
            continue
        slack = dt.timedelta(seconds=1)
        covered = any(
            r.shop_id == key[0]
            and r.window_start
            and r.window_end
            and r.window_start <= exp.changed_utc <= r.window_end + slack
            for r in runs
        )
        if not covered:
            failures.append(f"{label}: job lost with Redis and no reconcile pass covered it")
        else:
            figures[f"status {exp.status}, job lost with Redis, skipped by the reconciler"] += 1

    expected_numbers = {key for key in run.expect}
    for key, booked in mutations.items():
        if key not in expected_numbers or run.expect[key].outcome != "book":
            failures.append(
                f"e-Boekhouden ({admin_of[key[0]]}) has {len(booked)} mutation(s) "
                f"for order {key[1]!r}, which should have none"
            )
    for key, row in rows.items():
        if key not in expected_numbers:
            failures.append(f"ledger row for an order that does not exist: {key} ({row.state})")

    # Bad and forged notifications: refused, never queued, never run.
    for kind, status, expected in run.sender.refused:
        if status not in expected:
            failures.append(f"{kind}: answered {status}, expected {sorted(expected)}")
    metrics = stack.metrics_text()
    notifications = metric_values(metrics, "mww_notifications_total")
    accepted = sum(1 for s in run.sender.sent if s.status == 202)
    counted = int(
        sum(notifications.get(outcome, 0) for outcome in ("queued", "duplicate", "test_order"))
    )
    if counted != accepted:
        failures.append(
            f"the endpoint counted {counted} queued/duplicate/test-order notifications, the "
            f"genuine sender got {accepted} answers 202"
        )
    not_found = metric_values(metrics, "mww_bookings_total").get("not_found", 0)
    if not_found:
        failures.append(f"{not_found:.0f} booking jobs ran for orders that do not exist")
    redis = stack.redis()
    leaked = [
        n
        for shop in stack.shops
        for n in run.sender.forged_numbers
        if redis.exists(f"rq:job:book-{shop.id}-{n}")
    ]
    if leaked:
        failures.append(f"forged notifications enqueued: {leaked[:5]}")
    unanswered = [s for s in run.sender.sent if s.status != 202]
    if unanswered:
        failures.append(
            f"{len(unanswered)} genuine notifications never got a 202, e.g. {unanswered[0]}"
        )
    figures["genuine notifications answered 202"] = accepted
    figures["forged/bad notifications refused"] = sum(
        1 for _, status, expected in run.sender.refused if status in expected
    )
    figures["forged/bad notifications enqueued"] = len(leaked) + int(not_found)
    refusals = {k: int(v) for k, v in notifications.items() if k not in ("queued", "duplicate")}
    return failures, {
        "figures": figures,
        "reasons": reasons,
        "refusals": refusals,
        "eb_faults": {
            **state["faults"]["injected"],
            **{f"REST {k}": v for k, v in rest_state["faults"]["injected"].items()},
        },
        "mww_faults": stack.fault_snapshot("mww")["injected"],
        "eb_calls": {**state["calls"], **{f"REST {k}": v for k, v in rest_state["calls"].items()}},
        "eb_apis": {shop.name: shop.eb_api for shop in stack.shops},
    }


def _reason_kind(reason: str) -> str:
    text = reason.strip().split(". ")[0]
    for digit in "0123456789":
        text = text.replace(digit, "#")
    return text[:90]


def report(run: Run, result: dict[str, Any], failures: list[str], timings: dict[str, float]) -> str:
    lines = [
        "",
        f"CHAOS: {len(run.expect)} orders over {len(run.stack.shops)} shops, "
        f"{len(PHASES)} fault phases in {timings['inject']:.0f}s, settled "
        f"{timings['settle']:.0f}s later, checked in {timings['check']:.0f}s",
        "e-Boekhouden adapters: "
        + ", ".join(f"{shop} {api.upper()}" for shop, api in result.get("eb_apis", {}).items()),
        "",
        "Outcome per order:",
    ]
    lines += [f"  {n:6d}  {what}" for what, n in result["figures"].items()]
    for state, kinds in result["reasons"].items():
        for reason, n in kinds.most_common():
            lines.append(f"          {state}: {n} × \u201c{reason}\u201d")
    lines += ["", "Faults injected:"]
    lines += [f"  {n:6d}  e-Boekhouden {k}" for k, n in sorted(result["eb_faults"].items())]
    lines += [f"  {n:6d}  Mijnwebwinkel {k}" for k, n in sorted(result["mww_faults"].items())]
    stack_counts = {
        "worker processes SIGKILLed (with their work horse)": run.stack.counters.get(
            "worker_sigkills", 0
        ),
        "Redis restarts with all data lost": run.stack.counters.get("redis_restarts", 0),
        "processes that died on their own and were restarted": run.stack.counters.get(
            "unexpected_restarts", 0
        ),
    }
    lines += [f"  {n:6d}  {k}" for k, n in stack_counts.items()]
    lines += [f"  {n:6d}  {k}" for k, n in sorted(run.events.items())]
    lines += [f"  {n:6d}  {k}" for k, n in sorted(run.sender.counts.items())]
    lines += ["", "Endpoint refusals (mww_notifications_total):"]
    lines += [f"  {n:6d}  {k}" for k, n in sorted(result["refusals"].items())]
    lines += [
        "",
        "e-Boekhouden calls (all shops): "
        + ", ".join(f"{k} {v}" for k, v in sorted(result["eb_calls"].items())),
    ]
    lines += ["", "Invariants: " + ("all hold" if not failures else f"{len(failures)} VIOLATED")]
    lines += [f"  - {f}" for f in failures[:40]]
    return "\n".join(lines)


# --- the test ----------------------------------------------------------------------


def test_every_order_is_booked_exactly_once_or_accounted_for_under_faults(
    chaos_stack: Stack, tmp_path: Path
) -> None:
    stack = chaos_stack
    run = Run(stack)
    shops = stack.shops
    per_shop = [
        CHAOS_ORDERS // len(shops) + (i < CHAOS_ORDERS % len(shops)) for i in range(len(shops))
    ]
    pool_orders = {
        shop.id: make_orders(n, seed=f"chaos-{shop.id}", start_number=1001)
        for shop, n in zip(shops, per_shop, strict=True)
    }
    batches: list[list[tuple[ShopInfo, dict[str, Any]]]] = [[] for _ in PHASES]
    for shop in shops:
        for index, order in enumerate(pool_orders[shop.id]):
            batches[index * len(PHASES) // len(pool_orders[shop.id])].append((shop, order))

    started = time.monotonic()
    try:
        for (name, phase), batch in zip(PHASES, batches, strict=True):
            print(f"chaos: {name} ({len(batch)} orders)", flush=True)
            run.add_batch(batch)
            phase(run, batch)
            drain(run)  # let the batch's jobs meet the phase's faults, then end them
            run.eb(clear=True)
            run.mww(clear=True)
        run.eb(clear=True)
        run.mww(clear=True)
        injected = time.monotonic()

        # Settled: nothing pending, and still nothing a few seconds later (a retry or a
        # poll pass that was under way shows up in between).
        deadline = injected + CHAOS_SETTLE_SECONDS
        quiet_since: float | None = None
        problems = pending(run)
        while time.monotonic() < deadline:
            problems = pending(run)
            if problems:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= SETTLED_FOR_SECONDS:
                break
            time.sleep(0.5)
        settled = time.monotonic()
        failures, result = check(run)
        if problems:
            failures.insert(0, f"not settled after {CHAOS_SETTLE_SECONDS:.0f}s: {problems[:10]}")
        checked = time.monotonic()
    finally:
        run.pool.shutdown(wait=True, cancel_futures=True)
    text = report(
        run,
        result,
        failures,
        {"inject": injected - started, "settle": settled - injected, "check": checked - settled},
    )
    print(text, flush=True)
    (tmp_path / "chaos-report.txt").write_text(text)

    left = stack.stop()
    assert left == [], f"processes left after stopping the system: {left}"
    assert not failures, text
