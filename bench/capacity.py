"""``python -m bench capacity``: the unit costs of the capacity model, measured with the
real processes on this machine, the projection for a whole platform, and a check of the
model against a simulated hour of many shops (``bench.scale``'s machinery). Writes
docs/capacity.md (``bench.capacity_report``); the model itself is ``bench.capacity_model``.

Measurement (one ``Stack``: gunicorn, ``workers`` simple workers, the clock, both
simulators without added latency, PostgreSQL, Redis):

1. bookings by notification: ``orders_per_shop`` orders on each of the first
   ``booking_shops`` shops, announced by signed notifications at ``rate`` per second; CPU time of
   gunicorn (master and workers) and of the worker processes from /proc before and after,
   divided by the notifications and the bookings; the simulators' call counters, Redis
   ``MEMORY USAGE`` of the keys that stay, and ``pg_total_relation_size`` of every table
   (indexes and TOAST included) before and after;
2. queued jobs: ``queued_jobs`` booking jobs enqueued (``enqueue_booking``) on a queue no
   worker listens to, ``INFO memory`` before and after, the queue emptied again;
3. idle polls: the clock started with a short poll interval over ``shops`` shops with no
   new orders; CPU of the workers and the clock, calls and SQL growth per pass finished
   (counted in ``reconcile_runs``), after the first (hourly) pass of every shop.

``--repeat N`` measures N times (the model takes each unit cost's median; the document
shows the spread). The check (``check``): ``bench.scale.run`` unchanged, with a sampler
of CPU, passes and Redis started by its ``on_start`` hook. ``--json`` keeps the raw
figures; ``--from-json A [B …] [--check-json C]`` renders saved runs again.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import text

from bench import load, scale
from bench.capacity_model import UnitCosts
from bench.orders import BOOKABLE_KINDS, make_orders, shop_now
from bench.stack import Stack, descendants, signed_headers, wait_until


def cpu_ms(pids: list[int]) -> float:
    """utime + stime of these processes and their living descendants, in ms."""
    import os

    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    seen: set[int] = set()
    for pid in pids:
        for p in [pid, *descendants(pid)]:
            if p in seen:
                continue
            seen.add(p)
            try:
                stat = Path(f"/proc/{p}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            total += (int(fields[11]) + int(fields[12])) * 1000.0 / ticks
    return total


def role_cpu(stack: Stack, role: str) -> float:
    return cpu_ms([p.pid for p in stack.procs.values() if p.role == role and p.alive()])


def pg_bytes(stack: Stack) -> dict[str, int]:
    with stack.services().engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT relname, pg_total_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r'"
            )
        )
        return {str(name): int(size) for name, size in rows}


def key_bytes(stack: Stack, pattern: str, skip: tuple[bytes, ...] = ()) -> tuple[int, int]:
    """(keys, MEMORY USAGE bytes) of the keys matching ``pattern`` (not ending in ``skip``)."""
    redis = stack.redis()
    keys = [k for k in redis.scan_iter(match=pattern, count=1000) if not k.endswith(skip)]
    pipe = redis.pipeline(transaction=False)
    for key in keys:
        pipe.memory_usage(key, samples=0)
    return len(keys), sum(int(n or 0) for n in pipe.execute()) if keys else 0


def scalar(stack: Stack, sql: str) -> int:
    with stack.services().engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def mww_calls(stack: Stack) -> Counter[str]:
    return scale._mww_calls(stack)


@dataclass
class MeasureConfig:
    shops: int = 200
    booking_shops: int = 20
    orders_per_shop: int = 30
    rate: float = 15.0
    workers: int = 2
    queued_jobs: int = 2000
    poll_real: int = 10  # the idle phase's poll interval (real seconds)
    idle_seconds: float = 60.0
    seed: str = "capacity"


def _notifications(stack: Stack, numbers: list[tuple[Any, str]]) -> list[bytes]:
    out = []
    for shop, number in numbers:
        body = json.dumps({"order_number": number}).encode()
        path = urlsplit(shop.webhook_url).path
        out.append(
            load.http_post(
                "127.0.0.1", stack.web_port, path, body, signed_headers(shop.webhook_secret, body)
            )
        )
    return out


def measure(config: MeasureConfig | None = None, log: Any = print) -> dict[str, Any]:
    config = config or MeasureConfig()
    env = {
        "WORKER_MODE": "simple",
        "POLL_INTERVAL_SECONDS": str(config.poll_real),
        "RECONCILE_INTERVAL_SECONDS": str(7 * 24 * 3600),  # one hourly pass at the start
    }
    out: dict[str, Any] = {"config": asdict(config)}
    with Stack(
        "bench-capacity", workers=config.workers, clock=False, shops=config.shops, env=env
    ) as stack:
        numbers: list[tuple[Any, str]] = []
        for index, shop in enumerate(stack.shops[: config.booking_shops]):
            orders = make_orders(
                config.orders_per_shop,
                seed=f"{config.seed}-{index}",
                start_number=100_001,
                kinds=BOOKABLE_KINDS,
                status=3,
                changed_at=shop_now() - dt.timedelta(days=2),  # outside every poll window
            )
            stack.add_orders(shop, orders)
            numbers += [(shop, str(o["number"])) for o in orders]
        requests = _notifications(stack, numbers)
        n = len(numbers)
        log(f"  capacity: {n} notifications at {config.rate:g}/s over {config.booking_shops} shops")
        # 1. bookings by notification
        before = _snapshot(stack)
        sent = load.run(
            stack.web_port, requests, concurrency=4, duration=n / config.rate + 30, rate=config.rate
        )
        web_after = role_cpu(stack, "web")
        wait_until(
            lambda: scalar(stack, "SELECT count(*) FROM bookings WHERE state = 'booked'") >= n,
            600,
            "every order booked",
            interval=0.5,
        )
        after = _snapshot(stack)
        booked = scalar(stack, "SELECT count(*) FROM bookings WHERE state = 'booked'")
        webhook_keys, webhook_bytes = key_bytes(stack, "mww:webhook-id:*")
        job_keys, job_bytes = key_bytes(stack, "rq:job:book-*")
        _, result_bytes = key_bytes(stack, "rq:results:book-*")  # RQ's result streams
        booked_keys, booked_bytes = key_bytes(stack, "mww:booked:*", (b":built",))
        relation_keys, relation_bytes = key_bytes(stack, "mww:relations:*")
        out["bookings"] = {
            "notifications": n,
            "accepted": sent.ok,
            "booked": booked,
            "web_cpu_ms": web_after - before["web"],
            "worker_cpu_ms": after["worker"] - before["worker"],
            "mww_calls": dict(after["mww"] - before["mww"]),
            "eb_calls": dict(after["eb"] - before["eb"]),
            "pg_delta": _pg_delta(before["pg"], after["pg"]),
            "webhook_ids": [webhook_keys, webhook_bytes],
            "finished_jobs": [job_keys, job_bytes + result_bytes],
            "booked_sets": [booked_keys, booked_bytes],
            "relation_hashes": [relation_keys, relation_bytes],
            "redis_used_delta": after["redis"] - before["redis"],
        }
        # 2. queued jobs: a queue nobody works on, emptied afterwards
        from app.jobs.queue import enqueue_booking, get_queue

        probe = get_queue(stack.redis(), "capacity-probe")
        used = int(stack.redis().info("memory")["used_memory"])
        for i in range(config.queued_jobs):
            enqueue_booking(probe, 900_000 + i % 50, str(500_000 + i), source="capacity")
        out["queued"] = {
            "jobs": config.queued_jobs,
            "bytes": int(stack.redis().info("memory")["used_memory"]) - used,
        }
        probe.empty()
        # 3. idle polls
        log(f"  capacity: idle polls of {config.shops} shops every {config.poll_real} s")
        runs_sql = "SELECT count(*) FROM reconcile_runs WHERE finished_at IS NOT NULL"
        stack.start_clock()
        wait_until(
            lambda: scalar(stack, runs_sql) >= config.shops, 600, "the first pass of every shop"
        )
        time.sleep(config.poll_real)  # the pass after the hourly one
        shop_keys_before = _shop_keys(stack)
        first = _snapshot(stack)
        runs0 = scalar(stack, runs_sql)
        time.sleep(config.idle_seconds)
        last = _snapshot(stack)
        runs1 = scalar(stack, runs_sql)
        reconcile_keys, reconcile_bytes = key_bytes(stack, "rq:job:reconcile-*")
        reconcile_bytes += key_bytes(stack, "rq:results:reconcile-*")[1]
        connections = scalar(
            stack,
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        # A booked set at a year's size (30 a day): past 512 members Redis stores it as
        # a hash table, which costs more per member than the small sets of this run.
        year = stack.redis()
        year.sadd("capacity:booked-year", *(str(100_000 + i) for i in range(30 * 365)))
        year_bytes = int(year.memory_usage("capacity:booked-year", samples=0) or 0)
        year.delete("capacity:booked-year")
        out["polls"] = {
            "passes": runs1 - runs0,
            "worker_cpu_ms": last["worker"] - first["worker"],
            "clock_cpu_ms": last["clock"] - first["clock"],
            "mww_calls": dict(last["mww"] - first["mww"]),
            "eb_calls": dict(last["eb"] - first["eb"]),
            "pg_delta": _pg_delta(first["pg"], last["pg"]),
            "finished_jobs": [reconcile_keys, reconcile_bytes],
            "shop_keys": shop_keys_before,
            "pg_connections": connections,
            "processes": sum(
                1 for p in stack.procs.values() if p.role in ("web", "worker", "clock")
            ),
            "booked_year_set": [30 * 365, year_bytes],
        }
        out["load_average"] = list(_loadavg())
    return out


def _shop_keys(stack: Stack) -> list[int]:
    """The connector's keys that belong to shops, not to orders: (keys, bytes)."""
    redis = stack.redis()
    keys = [
        k
        for k in redis.scan_iter(match="mww:*", count=1000)
        if not k.startswith((b"mww:webhook-id:", b"mww:waiting:book-", b"mww:relations:"))
        and not k.startswith(b"mww:clock:")
        and (not k.startswith(b"mww:booked:") or k.endswith(b":built"))
    ]
    pipe = redis.pipeline(transaction=False)
    for key in keys:
        pipe.memory_usage(key, samples=0)
    return [len(keys), sum(int(n or 0) for n in pipe.execute()) if keys else 0]


def _snapshot(stack: Stack) -> dict[str, Any]:
    eb = scale.eb_calls_total(stack)
    mww = mww_calls(stack)  # a scrape of the web process: before its CPU is read
    return {
        "web": role_cpu(stack, "web"),
        "worker": role_cpu(stack, "worker"),
        "clock": role_cpu(stack, "clock"),
        "mww": mww,
        "eb": eb,
        "pg": pg_bytes(stack),
        "redis": int(stack.redis().info("memory")["used_memory"]),
    }


def _pg_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {
        k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)
    }


def _loadavg() -> tuple[float, float, float]:
    import os

    return os.getloadavg()


def unit_costs(m: dict[str, Any]) -> UnitCosts:
    """The model's inputs from a ``measure`` result."""
    b, q, p = m["bookings"], m["queued"], m["polls"]
    booked, passes, shops = b["booked"], max(1, p["passes"]), m["config"]["shops"]
    relation_calls = sum(
        b["eb_calls"].get(op, 0) for op in ("GetRelaties", "AddRelatie", "UpdateRelatie")
    )
    return UnitCosts(
        web_cpu_ms_per_notification=b["web_cpu_ms"] / b["notifications"],
        worker_cpu_ms_per_booking=b["worker_cpu_ms"] / booked,
        worker_cpu_ms_per_poll=p["worker_cpu_ms"] / passes,
        clock_cpu_ms_per_poll=p["clock_cpu_ms"] / passes,
        redis_bytes_per_shop=p["shop_keys"][1] / shops,
        redis_bytes_per_job=q["bytes"] / q["jobs"],
        redis_bytes_per_finished_job=b["finished_jobs"][1] / max(1, b["finished_jobs"][0]),
        redis_bytes_per_finished_pass=p["finished_jobs"][1] / max(1, p["finished_jobs"][0]),
        redis_bytes_per_webhook_id=b["webhook_ids"][1] / max(1, b["webhook_ids"][0]),
        redis_bytes_per_booked_order=p["booked_year_set"][1] / p["booked_year_set"][0],
        sql_bytes_per_order=sum(b["pg_delta"].values()) / booked,
        # The run records stay; the shops table's watermark updates leave dead rows that
        # vacuum reuses, so its growth is not counted.
        sql_bytes_per_poll=p["pg_delta"].get("reconcile_runs", 0) / passes,
        db_connections_per_process=p["pg_connections"] / max(1, p["processes"]),
        mww_calls_per_order=sum(b["mww_calls"].values()) / booked,
        mww_calls_per_poll=sum(p["mww_calls"].values()) / passes,
        eb_calls_per_order=b["eb_calls"].get("AddMutatie", 0) / booked,
        eb_calls_per_new_customer=relation_calls / max(1, b["eb_calls"].get("GetRelaties", 0)),
        eb_new_customer_share=b["eb_calls"].get("GetRelaties", 0) / booked,
        eb_calls_per_poll=sum(p["eb_calls"].values()) / passes,
    )


@dataclass
class CheckConfig:
    shops: int = 5000
    orders_per_day: int = 8  # per shop, over an 8-hour working day
    compression: float = 4.0
    simulated_hours: float = 1.0
    workers: int = 2


class Sampler:
    """CPU of each process kind, Redis memory and finished passes, every few seconds,
    during a ``scale.run`` (started by its ``on_start`` hook)."""

    def __init__(self, interval: float = 5.0) -> None:
        import threading

        self.interval = interval
        self.samples: list[dict[str, float]] = []
        self.done = threading.Event()
        self.thread: Any = None

    def start(self, stack: Stack) -> None:
        import threading

        self.thread = threading.Thread(target=self._run, args=(stack,), daemon=True)
        self.thread.start()

    def _run(self, stack: Stack) -> None:
        while not self.done.is_set():
            try:
                self.samples.append(
                    {
                        "t": time.time(),
                        "worker": role_cpu(stack, "worker"),
                        "clock": role_cpu(stack, "clock"),
                        "passes": scalar(
                            stack,
                            "SELECT count(*) FROM reconcile_runs WHERE finished_at IS NOT NULL",
                        ),
                        "redis": int(stack.redis().info("memory")["used_memory"]),
                    }
                )
            except Exception:  # the stack is stopping
                return
            self.done.wait(self.interval)


def check(config: CheckConfig | None = None, log: Any = print) -> dict[str, Any]:
    """A simulated hour of many shops through ``bench.scale`` (its machinery unchanged),
    with the CPU, passes and Redis sampled beside it."""
    config = config or CheckConfig()
    duration = config.simulated_hours * 3600 / config.compression
    s_config = scale.ScaleConfig(
        shops=config.shops,
        orders_per_day=config.orders_per_day,
        compression=config.compression,
        duration=duration,
        workers=config.workers,
        drain_timeout=600.0,
    )
    sampler = Sampler()
    result = scale.run(s_config, log=log, on_start=sampler.start)
    sampler.done.set()
    if sampler.thread is not None:
        sampler.thread.join(timeout=30)
    return {"config": asdict(config), "scale": result, "samples": sampler.samples}


def main(argv: list[str]) -> int:
    """``python -m bench capacity [--skip-check] [--check-shops 5000] …``"""
    import argparse
    import datetime as dt
    import os
    import sys

    from bench.capacity_report import check_text, render
    from bench.stack import ROOT, services_unavailable

    parser = argparse.ArgumentParser(
        prog="python -m bench capacity",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--shops", type=int, default=200, help="idle-poll phase: shops")
    parser.add_argument("--booking-shops", type=int, default=20)
    parser.add_argument("--orders-per-shop", type=int, default=30)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--skip-check", action="store_true", help="no simulated hour")
    parser.add_argument("--check-shops", type=int, default=5000)
    parser.add_argument("--check-orders-per-day", type=int, default=8)
    parser.add_argument("--check-compression", type=float, default=4.0)
    parser.add_argument("--check-hours", type=float, default=1.0)
    parser.add_argument("--note", default="")
    parser.add_argument("--output", default=str(ROOT / "docs" / "capacity.md"))
    parser.add_argument("--json", help="also write the raw figures here")
    parser.add_argument(
        "--check-json",
        nargs="+",
        help="with --from-json: take the check from this run (several: one section each)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="measure the unit costs N times")
    parser.add_argument(
        "--from-json",
        nargs="+",
        help="render saved runs (no measuring): the first with its check, the others' "
        "measurements added as repeats",
    )
    args = parser.parse_args(argv)
    if args.from_json:
        data = json.loads(Path(args.from_json[0]).read_text())
        for extra in args.from_json[1:]:
            more = json.loads(Path(extra).read_text())
            data["repeats"] = [
                *data.get("repeats", []),
                *more.get("repeats", []),
                {"measure": more["measure"], "date": more["date"], "machine": more["machine"]},
            ]
        if args.note:
            data["note"] = args.note
        for position, path in enumerate(args.check_json or []):
            other = json.loads(Path(path).read_text())
            taken = {
                "check": other["check"],
                "check_load": other.get("check_load"),
                "check_date": other["date"],
                "check_argv": other.get("argv", []),
            }
            if position == 0:
                data.update(taken)
            else:
                data.setdefault("more_checks", []).append(taken)
    else:
        reason = services_unavailable()
        if reason:
            print(f"bench capacity: cannot run: {reason}", file=sys.stderr)
            return 2
        from bench.__main__ import machine

        started = time.monotonic()
        data = {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "note": args.note,
            "argv": argv,
        }
        print("bench capacity: measuring unit costs", flush=True)
        data["measure"] = measure(
            MeasureConfig(
                shops=args.shops,
                booking_shops=args.booking_shops,
                orders_per_shop=args.orders_per_shop,
                idle_seconds=args.idle_seconds,
            ),
            log=_log,
        )
        data["repeats"] = []
        for _ in range(args.repeat - 1):
            config = MeasureConfig(**data["measure"]["config"])
            data["repeats"].append({"measure": measure(config, log=_log), "machine": machine()})
        if args.json:
            Path(args.json).write_text(json.dumps(data, indent=2, default=str))
        if not args.skip_check:
            print(f"bench capacity: a simulated hour of {args.check_shops} shops", flush=True)
            data["check"] = check(
                CheckConfig(
                    shops=args.check_shops,
                    orders_per_day=args.check_orders_per_day,
                    compression=args.check_compression,
                    simulated_hours=args.check_hours,
                ),
                log=_log,
            )
            data["check_load"] = list(os.getloadavg())
        data["duration_s"] = time.monotonic() - started
        if args.json:
            Path(args.json).write_text(json.dumps(data, indent=2, default=str))
    units = median_units([data["measure"], *(r["measure"] for r in data.get("repeats", []))])
    if data.get("check"):
        data["check_text"] = []
        for index, taken in enumerate([data, *data.get("more_checks", [])]):
            text = check_text(units, taken["check"], index)
            if taken.get("check_date"):
                text[1:1] = [
                    "",
                    "The check ran in an earlier run (`python -m bench capacity "
                    + " ".join(taken.get("check_argv") or [])
                    + f"`, started {taken['check_date']}; load average after it: "
                    + " ".join(f"{x:.2f}" for x in taken.get("check_load") or [])
                    + "); the unit costs it is compared with are this document's.",
                ]
            data["check_text"] += text
    Path(args.output).write_text(render(data, units))
    print(f"bench capacity: wrote {args.output}", flush=True)
    return 0


def median_units(measures: list[dict[str, Any]]) -> UnitCosts:
    """Each unit cost's median over the runs."""
    import statistics

    runs = [asdict(unit_costs(m)) for m in measures]
    return UnitCosts(**{k: statistics.median([r[k] for r in runs]) for k in runs[0]})


def _log(message: str) -> None:
    print(message, flush=True)
