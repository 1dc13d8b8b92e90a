"""Scale on the Procfile's processes (``bench.scale``), invariants only, never a timing
(the figures are `python -m bench scale`'s, docs/benchmarks-scale.md):

- two clocks and three workers at once (``make test``): no shop polled twice per due
  time, every order booked once;
- a reduced simulated day (``make chaos``, ``SCALE_TEST=1``): 50 shops, status changes
  over one compressed minute found by the fast poll only, 1 clock, 2 workers, 1 web;
  every order booked exactly once, each mutation cent-exact against the simulator's
  order, nothing booked that should not be."""

from __future__ import annotations

import os

import pytest

from bench.scale import ScaleConfig, run
from bench.stack import services_unavailable

pytestmark = pytest.mark.slow


def skip_without_services() -> None:
    if os.environ.get("TEST_BACKENDS") == "embedded":
        pytest.skip("TEST_BACKENDS=embedded: needs PostgreSQL and Redis")
    reason = services_unavailable()
    if reason:
        pytest.skip(f"needs PostgreSQL and redis-server: {reason}")


# The scale simulation stays behind its own target (the guide): ``make chaos`` runs it.
@pytest.mark.skipif(
    os.environ.get("SCALE_TEST") != "1",
    reason="the scale simulation runs in make chaos (SCALE_TEST=1)",
)
def test_a_compressed_day_of_50_shops_books_every_order_once_to_the_cent() -> None:
    skip_without_services()
    # 50 shops × 9 orders (2 of them credit notes: 20 % here, so every shop has some),
    # over 45 s compressed 30× (22 simulated minutes), the poll every 10 s.
    config = ScaleConfig(
        shops=50,
        orders_per_day=200,
        compression=30,
        duration=45,
        credit_share=0.2,
        drain_timeout=120,
        seed="suite",
    )
    result = run(config, log=lambda _: None)
    assert result["driver_errors"] == 0
    assert result["violations"] == [], f"{result['violation_count']} violation(s)"
    assert result["booked"] == result["orders"] > 0


def test_two_clocks_and_three_workers_poll_each_shop_once_per_due_time_and_book_once() -> None:
    """Scale-out on the same Redis and PostgreSQL: two clock processes and three workers
    (the Procfile's commands). No shop's fast poll is enqueued twice for one due time
    (two polls of a shop are at least a poll interval apart), no order booked twice."""
    skip_without_services()
    # 8 shops selling 5 orders each and 8 idle ones, over 8 s compressed 150× (20
    # simulated minutes): the poll every 2 s, the hourly pass and the idle maximum 24 s.
    config = ScaleConfig(
        shops=8,
        idle_shops=8,
        orders_per_day=120,
        compression=150,
        duration=8,
        credit_share=0.2,
        drain_timeout=60,
        workers=3,
        clocks=2,
        seed="clocks",
        first_time_share=0.0,
    )
    result = run(config, log=lambda _: None)
    assert result["driver_errors"] == 0
    assert result["violations"] == [], f"{result['violation_count']} violation(s)"
    assert result["booked"] == result["orders"] > 0
    polling = result["polling"]
    assert polling["min_poll_gap_s"] is not None, polling  # some shop was polled again
    assert polling["min_poll_gap_s"] >= 0.9 * config.poll_real, polling
