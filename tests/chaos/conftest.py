"""The fault-injection suite's harness: the whole system (``bench.stack``), a webhook
sender that behaves like a Standard Webhooks sender, bad and forged notifications, and
the end-of-run invariant checks.

Sizes and knobs (environment):

- ``CHAOS_ORDERS``: orders over all shops (default 120, a reduced run for the normal
  suite and CI; ``make chaos`` sets 500).
- ``CHAOS_SHOPS`` (3), ``CHAOS_SETTLE_SECONDS`` (how long the system may take to settle
  after the last fault, default 420).
- ``CHAOS_KEEP_LOGS=1``: keep the processes' logs in the stack's run directory (they are
  always copied to the test's ``tmp_path``).

Skips cleanly, with the reason, when PostgreSQL or ``redis-server`` is not available (or
``TEST_BACKENDS=embedded``). PostgreSQL: ``BENCH_PG_ADMIN_URL`` / ``TEST_PG_ADMIN_URL``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.stack import Stack, services_unavailable
from tests.chaos.helpers import (
    CHAOS_ENV,
    CHAOS_SHOPS,
)


@pytest.fixture
def chaos_stack(tmp_path: Path) -> Iterator[Stack]:
    if os.environ.get("TEST_BACKENDS") == "embedded":
        pytest.skip("TEST_BACKENDS=embedded: the chaos suite needs PostgreSQL and Redis")
    reason = services_unavailable()
    if reason:
        pytest.skip(f"the chaos suite needs PostgreSQL and redis-server: {reason}")
    keep = os.environ.get("CHAOS_KEEP_LOGS") == "1"
    # The shops split over both e-Boekhouden adapters: every second one books through REST.
    stack = Stack(
        "chaos",
        workers=2,
        shops=CHAOS_SHOPS,
        latency=0.01,
        supervise=True,
        env=CHAOS_ENV,
        keep_logs=True,
        eb_apis="mixed",
    )  # logs: see below
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
            if not keep:
                shutil.rmtree(stack.run_dir, ignore_errors=True)
