"""Prometheus metrics. Defined once here; every process increments them.

Web (gunicorn) and worker processes are many, so counters use prometheus-client's
multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is set (``make run`` and the Procfile
set it); ``/metrics`` then aggregates all processes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

# Multiprocess mode writes to this directory from the moment the first metric exists.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

NOTIFICATIONS = Counter(
    "mww_notifications_total", "Order notifications received, by outcome.", ["outcome"]
)
BOOKINGS = Counter("mww_bookings_total", "Booking job outcomes.", ["outcome"])
JOB_SECONDS = Histogram(
    "mww_booking_job_seconds",
    "Duration of one booking job.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
UPSTREAM_CALLS = Counter(
    "mww_upstream_calls_total",
    "Calls to Mijnwebwinkel and e-Boekhouden.",
    ["system", "operation", "outcome"],
)
UPSTREAM_SECONDS = Histogram(
    "mww_upstream_call_seconds",
    "Duration of calls to external systems.",
    ["system", "operation"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RECONCILE_PASSES = Counter(
    "mww_reconcile_passes_total", "Reconciler passes, by mode and outcome.", ["mode", "outcome"]
)
RECONCILE_SECONDS = Histogram(
    "mww_reconcile_pass_seconds",
    "Duration of one reconciler pass.",
    ["mode"],
    buckets=(0.1, 0.5, 1, 5, 10, 30, 60, 300, 900),
)
RECONCILE_ORDERS = Counter(
    "mww_reconcile_orders_total", "Orders seen by the reconciler, by what it did.", ["action"]
)


def upstream_recorder(system: str):
    """A ``metrics`` callback for the clients: ``(operation, outcome, seconds)``."""

    def record(operation: str, outcome: str, seconds: float) -> None:
        UPSTREAM_CALLS.labels(system, operation, outcome).inc()
        UPSTREAM_SECONDS.labels(system, operation).observe(seconds)

    return record


@contextmanager
def timed(histogram: Histogram) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        histogram.observe(time.perf_counter() - start)


def exposition() -> bytes:
    """The text format of all metrics (all processes in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()
