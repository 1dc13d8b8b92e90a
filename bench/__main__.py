"""``python -m bench`` (``make bench``): run the four benchmarks, write docs/benchmarks.md.

    python -m bench                       # all, the default sizes (about 8 minutes here)
    python -m bench --only intake,reconcile
    python -m bench --memory-bookings 10000   # the issue's full memory run (+6 minutes)
    python -m bench --quick               # small sizes, a smoke test of the harness
    python -m bench scale --shops 1000 --duration 1800 --compression 1   # 1 000 shops
    python -m bench scale --shops 40 --idle-shops 160 --compression 60   # fixed vs adaptive
    python -m bench capacity              # unit costs, the model, docs/capacity.md

Needs what the chaos suite needs: PostgreSQL on 127.0.0.1:5432 (``BENCH_PG_ADMIN_URL``
to change) and ``redis-server`` on PATH. Everything runs on loopback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import sys
import time
from pathlib import Path
from typing import Any

from bench import backfill, e2e, intake, reconcile, scale, workers
from bench.stack import ROOT, services_unavailable

# e2e includes the memory benchmark
BENCHMARKS = ("intake", "e2e", "reconcile", "workers", "scale", "backfill")


def machine() -> dict[str, str]:
    def first(path: str, key: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.lower().startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "unknown"

    mem_kib = first("/proc/meminfo", "memtotal").split()[0]
    info = {
        "cpus": str(os.cpu_count()),
        "cpu_model": first("/proc/cpuinfo", "model name"),
        "memory": f"{int(mem_kib) / 1024 / 1024:.1f} GiB" if mem_kib.isdigit() else mem_kib,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "load_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    info.update(_versions())
    commit = _commit()
    if commit:
        info["commit"] = commit
    return info


def _versions() -> dict[str, str]:
    out = {}
    try:
        from sqlalchemy import create_engine, text

        from bench.stack import PG_ADMIN_URL

        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            out["postgresql"] = str(conn.execute(text("SHOW server_version")).scalar())
        engine.dispose()
    except Exception:
        pass
    import subprocess

    try:
        text_ = subprocess.run(
            ["redis-server", "--version"], capture_output=True, text=True, timeout=10
        ).stdout
        out["redis"] = text_.split("v=")[1].split()[0] if "v=" in text_ else text_.strip()
    except (OSError, IndexError, subprocess.SubprocessError):
        pass
    import gunicorn
    import rq

    out["gunicorn"] = gunicorn.__version__
    out["rq"] = rq.__version__
    return out


def _commit() -> str:
    """The checked-out commit, read from .git (no git command)."""
    git = ROOT / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head[:12]
        ref = head.split(" ", 1)[1]
        if (git / ref).exists():
            return (git / ref).read_text().strip()[:12]
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0][:12]
    except OSError:
        pass
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help="comma-separated subset of: intake, e2e (with memory), "
        "reconcile, workers, scale, backfill",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (harness smoke test)")
    parser.add_argument("--intake-rounds", type=int, default=3)
    parser.add_argument("--e2e-orders", type=int, default=1000)
    parser.add_argument(
        "--e2e-rate", type=float, default=6.0, help="notifications per second in the end-to-end run"
    )
    parser.add_argument(
        "--memory-bookings",
        type=int,
        default=3000,
        help="bookings before the late RSS sample (issue: 10000; "
        "about 20/s here, so 10000 adds ~6 minutes)",
    )
    parser.add_argument("--reconcile-orders", type=int, default=10_000)
    parser.add_argument("--shops", type=int, default=100, help="scale: connected shops")
    parser.add_argument(
        "--duration", type=float, default=450.0, help="scale: real seconds of status changes"
    )
    parser.add_argument(
        "--compression",
        type=float,
        default=4.0,
        help="scale: simulated seconds per real second (intervals divided)",
    )
    parser.add_argument(
        "--first-time-share",
        type=float,
        default=0.3,
        help="scale: share of orders from customers never seen before",
    )
    parser.add_argument(
        "--orders-per-day",
        type=int,
        default=200,
        help="scale: status changes per shop per working day",
    )
    parser.add_argument(
        "--idle-shops",
        type=int,
        default=0,
        help="scale: connected shops that sell nothing; with any, the scale benchmark runs "
        "twice (fixed polling, then adaptive) and reports both side by side",
    )
    parser.add_argument("--clocks", type=int, default=1, help="scale: clock processes")
    parser.add_argument("--backfill-orders", type=int, default=10_000)
    parser.add_argument(
        "--workers-orders",
        type=int,
        default=400,
        help="worker efficiency: orders per round and mode",
    )
    parser.add_argument("--workers-rounds", type=int, default=3)
    parser.add_argument(
        "--note",
        default="",
        help="a sentence for the report's header (e.g. that the machine was shared)",
    )
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--json", help="also write the raw figures to this file")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["capacity"]:  # its own report, docs/capacity.md (bench/capacity.py)
        from bench import capacity

        return capacity.main(argv[1:])
    if argv[:1] == ["scale"]:  # `python -m bench scale --shops 1000 …`: its own report,
        argv = [
            "--only",
            "scale",  # so the full one (docs/benchmarks.md) is not replaced
            "--output",
            str(ROOT / "docs" / "benchmarks-scale.md"),
            *argv[1:],
        ]
    args = parser.parse_args(argv)
    chosen = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    reason = services_unavailable()
    if reason:
        print(f"bench: cannot run: {reason}", file=sys.stderr)
        return 2
    # A SIGTERM (timeout, CI cancel) unwinds through every Stack's cleanup.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    started = time.monotonic()
    report: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "quick": args.quick,
        "durations": {},
        "note": args.note,
        "argv": argv,
    }
    print(
        f"bench: {report['date']} on {report['machine']['cpus']} CPUs "
        f"({report['machine']['cpu_model']}), load {report['machine']['load_at_start']}",
        flush=True,
    )
    if "intake" in chosen:
        print("bench: 1. webhook intake", flush=True)
        config = intake.IntakeConfig(rounds=args.intake_rounds)
        if args.quick:
            config.rounds, config.saturation_seconds, config.rate_seconds = 1, 2.0, 2.0
        report["intake"] = intake.run(config, log=_log)
        report["durations"]["intake"] = time.monotonic() - started
    if "e2e" in chosen:
        print("bench: 2. end to end, and 4. memory", flush=True)
        e2e_config = e2e.E2EConfig(
            orders=args.e2e_orders, rate=args.e2e_rate, memory_bookings=args.memory_bookings
        )
        if args.quick:
            e2e_config.orders, e2e_config.warmup, e2e_config.memory_bookings = 60, 30, 200
            e2e_config.floor_samples = 10
        began = time.monotonic()
        report.update(e2e.run(e2e_config, log=_log))
        report["durations"]["e2e"] = time.monotonic() - began
    if "reconcile" in chosen:
        print("bench: 3. reconciler", flush=True)
        rec_config = reconcile.ReconcileConfig(orders=args.reconcile_orders)
        if args.quick:
            rec_config.orders, rec_config.rounds = 1000, 1
        began = time.monotonic()
        report["reconcile"] = reconcile.run(rec_config, log=_log)
        report["durations"]["reconcile"] = time.monotonic() - began
    if "workers" in chosen:
        print("bench: 5. worker efficiency", flush=True)
        w_config = workers.WorkersConfig(orders=args.workers_orders, rounds=args.workers_rounds)
        if args.quick:
            w_config.orders, w_config.rounds, w_config.warmup = 60, 1, 30
        began = time.monotonic()
        report["workers"] = workers.run(w_config, log=_log)
        report["durations"]["workers"] = time.monotonic() - began
    if "scale" in chosen:
        print("bench: 6. a simulated day of many shops", flush=True)
        s_config = scale.ScaleConfig(
            shops=args.shops,
            duration=args.duration,
            compression=args.compression,
            orders_per_day=args.orders_per_day,
            first_time_share=args.first_time_share,
            idle_shops=args.idle_shops,
            clocks=args.clocks,
        )
        if args.quick:
            s_config.shops, s_config.duration, s_config.compression = 20, 60.0, 30.0
        began = time.monotonic()
        if s_config.idle_shops:  # adaptive polling against the fixed poll of before
            pair = scale.run_pair(s_config, log=_log)
            report["scale"] = {**pair["adaptive"], "fixed": pair["fixed"]}
        else:
            report["scale"] = scale.run(s_config, log=_log)
        report["durations"]["scale"] = time.monotonic() - began
    if "backfill" in chosen:
        print("bench: 7. backfill speed", flush=True)
        b_config = backfill.BackfillConfig(orders=args.backfill_orders)
        if args.quick:
            b_config.orders, b_config.floor_samples = 500, 15
        began = time.monotonic()
        report["backfill"] = backfill.run(b_config, log=_log)
        report["durations"]["backfill"] = time.monotonic() - began
    report["duration_s"] = time.monotonic() - started
    from bench.report import render

    Path(args.output).write_text(render(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    print(f"bench: done in {report['duration_s']:.0f}s; wrote {args.output}", flush=True)
    return 0


def _log(message: str) -> None:
    print(message, flush=True)


if __name__ == "__main__":
    sys.exit(main())
