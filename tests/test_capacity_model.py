"""The capacity model's arithmetic (bench/capacity_model.py; figures in docs/capacity.md)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from bench.capacity_model import (
    ADAPTIVE,
    DAY,
    FIXED,
    MIB,
    Limits,
    PollRule,
    UnitCosts,
    Workload,
    eb_calls_per_order,
    heroku_bill,
    project,
)

pytestmark = pytest.mark.unit

UNITS = UnitCosts(
    web_cpu_ms_per_notification=2.0,
    worker_cpu_ms_per_booking=10.0,
    worker_cpu_ms_per_poll=5.0,
    clock_cpu_ms_per_poll=0.5,
    redis_bytes_per_shop=100.0,
    redis_bytes_per_job=2000.0,
    redis_bytes_per_finished_job=1000.0,
    redis_bytes_per_webhook_id=100.0,
    redis_bytes_per_booked_order=10.0,
    sql_bytes_per_order=1000.0,
    sql_bytes_per_poll=200.0,
    mww_calls_per_order=1.0,
    mww_calls_per_poll=1.0,
    eb_calls_per_order=2.0,
    db_connections_per_process=2.0,
)
LN2 = math.log(2)


@pytest.mark.parametrize(
    ("rule", "orders_per_second", "mean"),
    [
        (FIXED, 0.0, 300.0),
        (FIXED, 1.0, 300.0),
        (ADAPTIVE, 0.0, 3600.0),  # idle: the last step
        (ADAPTIVE, 10.0, 300.0),  # every poll a hit: the base
        # p0 = 1/2, p1 = 3/4: weights 1 and (1/2)/(3/4) = 2/3 → (300 + 600·2/3) / (5/3)
        (PollRule("two", 300.0, (600.0,)), LN2 / 300, 420.0),
    ],
)
def test_mean_poll_interval(rule: PollRule, orders_per_second: float, mean: float) -> None:
    assert rule.mean_interval(orders_per_second) == pytest.approx(mean, rel=1e-6)


@pytest.mark.parametrize(
    ("rule", "idle_passes_per_day"),
    [(FIXED, 288.0), (ADAPTIVE, 24.0), (PollRule("10 min", 600.0), 144.0)],
)
def test_idle_shop_passes_a_day(rule: PollRule, idle_passes_per_day: float) -> None:
    work = Workload(shops=10, orders_per_day=0.0)
    p = project(UNITS, work, rule, Limits())
    assert p.idle_shop_passes_per_day == pytest.approx(idle_passes_per_day)
    assert p.mww_calls_per_idle_shop_day == pytest.approx(idle_passes_per_day)


def test_a_projection_adds_up() -> None:
    # 1 200 shops × 12 orders in 12 selling hours: each shop 1 order an hour, 2 at peak.
    work = Workload(shops=1200, orders_per_day=12, selling_hours=12.0, peak_factor=2.0)
    p = project(UNITS, work, FIXED, Limits(mww_calls_per_s=8.0))
    assert p.orders_per_s_mean == pytest.approx(1200 * 12 / DAY)
    assert p.orders_per_s_peak == pytest.approx(1200 * 2 / 3600)
    assert p.passes_per_s == pytest.approx(1200 / 300)
    assert p.mww_calls_per_s == pytest.approx(4 + 1200 * 12 / DAY)
    # AddMutatie 2 + 30 % new customers × 2 relation calls + a session per 1 + λ·TTL orders
    eb_order = 2 + 0.3 * 2 + 1 / (1 + 1200 / 3600)
    assert p.eb_calls_per_s == pytest.approx(eb_order * 1200 * 12 / DAY)
    # peak: 4 passes/s × 5 ms + 2/3 orders/s × 10 ms
    assert p.worker_cores == pytest.approx((4 * 5 + 2 / 3 * 10) / 1000)
    wait = 4 * 0.15 + 2 / 3 * (0.15 + eb_order * 0.25)
    assert p.worker_busy_s_per_s == pytest.approx(p.worker_cores + wait)
    assert p.processes["worker"] == math.ceil(p.worker_busy_s_per_s / 0.6)
    # A year of bookings in SQL, the last 30 days of run records; the booked sets hold
    # 120 days of bookings at most (a 90-day window, rebuilt every 30).
    year = 1200 * 12 * 365
    assert p.pg_bytes_per_year == pytest.approx(year * 1000 + 4 * DAY * 30 * 200)
    booked = 1200 * 12 * 120
    redis = 1200 * 100 + (2 / 3 * 1000 + 4 * 1000) * 600 + booked * 10 + 1200 * 2000
    assert p.redis_bytes == pytest.approx(redis)
    assert p.utilisation["Mijnwebwinkel calls/s (one partner token)"] == pytest.approx(
        p.mww_calls_per_s / 8.0
    )
    assert p.saturates_first == "Mijnwebwinkel calls/s (one partner token)"


@pytest.mark.parametrize(
    ("orders_per_second", "session_seconds", "calls"),
    [
        (0.0, 1200.0, 1 + 0.6 + 1.0),  # every order opens its own session
        (1 / 1200, 1200.0, 1 + 0.6 + 0.5),  # one session per two orders
        (1.0, 0.0, 1 + 0.6 + 1.0),  # no session kept
    ],
)
def test_e_boekhouden_calls_per_order(
    orders_per_second: float, session_seconds: float, calls: float
) -> None:
    units = UnitCosts(**{**UNITS.__dict__, "eb_calls_per_order": 1.0})
    work = Workload(shops=1, orders_per_day=1, eb_session_seconds=session_seconds)
    assert eb_calls_per_order(units, work, orders_per_second) == pytest.approx(calls)


def test_adaptive_polling_lowers_the_calls_of_mostly_idle_shops() -> None:
    work = Workload(shops=25_000, orders_per_day=1)
    fixed, adaptive = (project(UNITS, work, rule, Limits()) for rule in (FIXED, ADAPTIVE))
    assert adaptive.mww_calls_per_s < fixed.mww_calls_per_s / 5
    assert adaptive.orders_per_s_mean == fixed.orders_per_s_mean


def test_the_bill_takes_the_smallest_plans_that_fit() -> None:
    p = project(UNITS, Workload(shops=100, orders_per_day=10), FIXED, Limits())
    assert p.redis_bytes * 1.5 < 25 * MIB
    bill = {line.what.split(" (")[0]: line for line in heroku_bill(p)}
    assert bill["Key-Value Store"].plan == "Mini"
    assert bill["web"].count == 2  # two for availability
    assert bill["clock"].plan == "Standard-1X"


@pytest.mark.parametrize(
    ("booked_days", "run_days", "booked_kept", "runs_kept"),
    [
        (120.0, 30.0, 120, 30),  # today: a 90-day window rebuilt every 30; 30 days of runs
        (365.0, 365.0, 365, 365),  # nothing trimmed: a year's worth after a year
        (1000.0, 1000.0, 365, 365),  # never more than a year "after a year"
    ],
)
def test_what_is_kept_bounds_redis_and_postgresql(
    booked_days: float, run_days: float, booked_kept: int, runs_kept: int
) -> None:
    work = Workload(
        shops=100, orders_per_day=10, booked_days_kept=booked_days, run_days_kept=run_days
    )
    p = project(UNITS, work, FIXED, Limits())
    base = project(
        UNITS, dataclasses.replace(work, booked_days_kept=0, run_days_kept=0), FIXED, Limits()
    )
    assert p.redis_bytes - base.redis_bytes == pytest.approx(100 * 10 * booked_kept * 10)
    runs = (100 / 300) * DAY * runs_kept * 200
    assert p.pg_bytes_per_year - base.pg_bytes_per_year == pytest.approx(runs)
