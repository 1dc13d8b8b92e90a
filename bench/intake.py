"""Benchmark 1 — webhook intake.

gunicorn with the Procfile's web command and ``app.gunicorn_conf`` serving the real app,
next to the same command and config serving ``bench.bare_app`` (a Flask view that only
answers 202). The same pre-built, signed requests go to both, from the same load
generator, for the same time: saturation (``concurrency`` threads, as fast as they get
answers) and a fixed 100 requests/s. Rounds alternate which target goes first; figures
are medians over rounds. No RQ workers run, so the queue only grows (as in a burst).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bench import load
from bench.stack import Stack, signed_headers

REAL, BARE = "real", "bare"
# issue 22: on RQ's public API (issue 18 reached 0.68 with a hand-written job hash)
THROUGHPUT_TARGET = 0.50


@dataclass
class IntakeConfig:
    rounds: int = 3
    saturation_seconds: float = 5.0
    rate_seconds: float = 5.0
    rate: float = 100.0
    concurrency: int = 8
    web_concurrency: int = 2


def _requests(stack: Stack, count: int, start_number: int) -> list[bytes]:
    shop = stack.shops[0]
    path = urlsplit(shop.webhook_url).path
    out = []
    for i in range(count):
        body = json.dumps({"order_number": str(start_number + i)}).encode()
        out.append(
            load.http_post(
                "127.0.0.1", stack.web_port, path, body, signed_headers(shop.webhook_secret, body)
            )
        )
    return out


def run(config: IntakeConfig | None = None, log: Any = print) -> dict[str, Any]:
    config = config or IntakeConfig()
    results: dict[str, dict[str, list[load.LoadResult]]] = {
        REAL: {"saturation": [], "rate": []},
        BARE: {"saturation": [], "rate": []},
    }
    with Stack(
        "bench-intake",
        workers=0,
        clock=False,
        simulators=False,
        shops=1,
        web_concurrency=config.web_concurrency,
        extra_web={BARE: "bench.bare_app:create_app()"},
    ) as stack:
        ports = {REAL: stack.web_port, BARE: stack.extra_ports[BARE]}
        number = 100_000
        # Warm both (imports, first connections, the shop cache).
        for target in (REAL, BARE):
            load.run(ports[target], _requests(stack, 100, number), concurrency=2, duration=5)
            number += 100
        rss_warm = web_rss(stack)
        for round_no in range(config.rounds):
            order = (BARE, REAL) if round_no % 2 == 0 else (REAL, BARE)
            for mode in ("saturation", "rate"):
                count = (
                    int(config.rate * config.rate_seconds) + 10
                    if mode == "rate"
                    else int(6000 * config.saturation_seconds)
                )
                batch = _requests(stack, count, number)  # the same bytes for both targets
                number += count
                for target in order:
                    result = load.run(
                        ports[target],
                        batch,
                        concurrency=config.concurrency,
                        duration=(
                            config.rate_seconds if mode == "rate" else config.saturation_seconds
                        ),
                        rate=config.rate if mode == "rate" else None,
                    )
                    results[target][mode].append(result)
                    log(
                        f"  intake round {round_no + 1} {mode:<10} {target}: "
                        f"{result.rps:7.1f} req/s  p50 {result.pct(50):6.2f} ms  "
                        f"p99 {result.pct(99):6.2f} ms  errors {result.errors}"
                    )
        queued = stack.redis().llen("rq:queue:bookings")
        rss_end = web_rss(stack)
        costs = step_costs(stack)
    out = summarise(results, config, queued)
    out["step_costs_us"] = costs
    served = sum(r.sent for mode in results[REAL].values() for r in mode)
    out["web_rss"] = {
        "after_warmup_kib": rss_warm,
        "after_kib": rss_end,
        "requests_after_warmup": served,
    }
    return out


def web_rss(stack: Stack) -> int:
    """KiB: the real app's gunicorn workers (the master's children), summed."""
    from bench.stack import descendants, rss_kib

    return sum(rss_kib(pid) for pid in descendants(stack.procs["web"].pid))


def step_costs(stack: Stack, n: int = 1000) -> dict[str, float]:
    """Median-of-3 cost (µs per request, in this process) of each step the real endpoint
    takes, and of the whole view and the bare view through Flask's test client: where
    the difference between the two servers goes."""
    import os

    from app.intake import notifications
    from app.jobs.queue import queue_notification

    shop = stack.shops[0]
    services = stack.services()
    path = urlsplit(shop.webhook_url).path
    saved = dict(os.environ)
    os.environ.update(stack.env)
    try:
        from app import create_app

        real_client = create_app().test_client()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    from bench.bare_app import create_app as bare_app

    bare_client = bare_app().test_client()
    counter = iter(range(10**9))

    def signed() -> tuple[bytes, dict[str, str]]:
        body = json.dumps({"order_number": str(5_000_000 + next(counter))}).encode()
        return body, signed_headers(shop.webhook_secret, body)

    def timed(step: Any) -> float:
        inputs = [signed() for _ in range(n)]
        started = time.perf_counter()
        for body, headers in inputs:
            step(body, headers)
        return (time.perf_counter() - started) / n * 1e6

    schema = notifications.NotificationSchema()  # as the endpoint: built once
    steps = {
        "signature": lambda b, h: notifications.verify(b, h, (shop.webhook_secret,)),
        "payload": lambda b, h: schema.load(json.loads(b)),
        "RQ's own Queue.enqueue of a booking job (one round trip)": lambda b, h: (
            services.queue.enqueue(
                "worker.jobs.book_order_job", shop.id, json.loads(b)["order_number"]
            )
        ),
        "webhook-id + waiting mark, then Queue.enqueue (two round trips)": lambda b, h: (
            queue_notification(
                services.queue, shop.id, h["webhook-id"], json.loads(b)["order_number"]
            )
        ),
        "whole endpoint (test client)": lambda b, h: real_client.post(path, data=b, headers=h),
        "bare view (test client)": lambda b, h: bare_client.post(path, data=b, headers=h),
    }
    for step in steps.values():  # warm
        timed(step)
    return {name: load.median([timed(step) for _ in range(3)]) for name, step in steps.items()}


def summarise(
    results: dict[str, dict[str, list[load.LoadResult]]], config: IntakeConfig, queued: int
) -> dict[str, Any]:
    def figures(runs: list[load.LoadResult]) -> dict[str, float]:
        return {
            "rps": load.median([r.rps for r in runs]),
            "p50_ms": load.median([r.pct(50) for r in runs]),
            "p99_ms": load.median([r.pct(99) for r in runs]),
            "errors": sum(r.errors for r in runs),
            "sent": sum(r.sent for r in runs),
        }

    out: dict[str, Any] = {"config": config.__dict__, "queued_jobs": queued}
    for mode in ("saturation", "rate"):
        real, bare = figures(results[REAL][mode]), figures(results[BARE][mode])
        ratios = [
            r.rps / b.rps
            for r, b in zip(results[REAL][mode], results[BARE][mode], strict=True)
            if b.rps
        ]
        out[mode] = {
            "real": real,
            "bare": bare,
            "rps_ratio": load.median(ratios),
            "p99_ratio": real["p99_ms"] / bare["p99_ms"] if bare["p99_ms"] else None,
        }
    out["target_throughput_met"] = out["saturation"]["rps_ratio"] >= THROUGHPUT_TARGET
    out["target_p99_met"] = out["rate"]["real"]["p99_ms"] <= 25.0
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, default=str))
