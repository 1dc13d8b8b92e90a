"""A reduced simulated day (``bench.scale``): 50 shops, status changes over one compressed
minute found by the fast poll only, 1 clock, 2 workers, 1 web. Asserts only invariants —
every order booked exactly once, each mutation cent-exact against the simulator's order,
nothing booked that should not be — never a timing: the figures are `python -m bench
scale`'s (docs/benchmarks.md §6)."""

from __future__ import annotations

import os

import pytest

from bench.scale import ScaleConfig, run
from bench.stack import services_unavailable

# The scale simulation stays behind its own target (the guide): ``make chaos`` runs it.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("SCALE_TEST") != "1",
        reason="the scale simulation runs in make chaos (SCALE_TEST=1)",
    ),
]


def test_a_compressed_day_of_50_shops_books_every_order_once_to_the_cent() -> None:
    if os.environ.get("TEST_BACKENDS") == "embedded":
        pytest.skip("TEST_BACKENDS=embedded: needs PostgreSQL and Redis")
    reason = services_unavailable()
    if reason:
        pytest.skip(f"needs PostgreSQL and redis-server: {reason}")
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
