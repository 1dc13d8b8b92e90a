"""The suite's own rules (issue 22): one tier per test, each pytest-xdist worker on
databases of its own, and nothing that wipes a Redis database the suite does not own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import TIERS
from tests.helpers import worker_redis_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("base", "worker", "expected"),
    [
        ("redis://127.0.0.1:6379/15", "", "redis://127.0.0.1:6379/15"),  # no xdist
        ("redis://127.0.0.1:6379/15", "gw0", "redis://127.0.0.1:6379/15"),
        ("redis://127.0.0.1:6379/15", "gw1", "redis://127.0.0.1:6379/14"),
        ("redis://127.0.0.1:6379/1", "gw1", "redis://127.0.0.1:6379/0"),
        ("redis://h:6379/9?socket_timeout=5", "gw3", "redis://h:6379/6?socket_timeout=5"),
        ("redis://h:6379", "gw0", "redis://h:6379/0"),  # no database in the URL: 0
        ("redis://h:6379/", "gw0", "redis://h:6379/0"),
    ],
)
def test_each_xdist_worker_has_its_own_redis_database(
    base: str, worker: str, expected: str
) -> None:
    assert worker_redis_url(base, worker) == expected


def test_a_worker_without_a_database_left_is_refused() -> None:
    with pytest.raises(RuntimeError, match="at least 2"):
        worker_redis_url("redis://127.0.0.1:6379/1", "gw2")


def test_every_test_has_exactly_one_tier(request: pytest.FixtureRequest) -> None:
    items = request.session.items
    assert items
    for item in items:
        tiers = {m.name for m in item.iter_markers() if m.name in TIERS}
        assert len(tiers) == 1, f"{item.nodeid}: {sorted(tiers)}"
    known = {
        "tests/core/test_mapping_vat.py::": "unit",
        "tests/test_booking.py::": "integration",
        "tests/chaos/test_chaos.py::": "system",
        "tests/test_deploy.py::test_a_clean_clone": "system",
        "tests/test_deploy.py::test_the_release_phase": "integration",
        "tests/web/test_browser.py::": "system",
    }
    for item in items:
        for prefix, tier in known.items():
            if item.nodeid.startswith(prefix):
                assert item.get_closest_marker(tier), f"{item.nodeid} is not {tier}"


FLUSHALL = re.compile(r"\bflushall\b|\bFLUSHALL\b")


def test_nothing_flushes_every_redis_database() -> None:
    """FLUSHALL would wipe every database of the shared local Redis (other checkouts'
    tests, a developer's make run): the suite flushes only its own (FLUSHDB)."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("app", "worker", "reconciler", "sandbox", "bench", "tests")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != Path(__file__)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if FLUSHALL.search(line)
    ]
    assert offenders == []
