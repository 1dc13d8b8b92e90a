"""Shared fixtures: databases, Redis, simulators, services.

Backends: every test that asks for ``backend`` runs twice, once on SQLite + fakeredis
(always) and once on the local PostgreSQL + Redis (when they answer; CI starts them).
Override with TEST_PG_ADMIN_URL / TEST_REDIS_URL; set TEST_BACKENDS=embedded to run only
the embedded pair. Under pytest-xdist each worker has its own databases (tests/helpers.py).

Tiers: every test gets exactly one of the markers ``unit`` (no server, database or process),
``integration`` (databases, Redis, simulators on loopback, in-process servers) or
``system`` (whole processes, the browser, long scenarios), by what it waits for:
``slow`` and ``browser`` tests are ``system``; else a tier marker the module or test
sets itself (a module whose own fixtures start servers or subprocesses); else a test
that uses one of ``INTEGRATION_FIXTURES`` is ``integration``; else ``unit``.
``make test`` runs unit and integration in parallel (pytest-xdist), then system. One
tier: ``pytest -m unit``.

Hypothesis: the profile ``suite`` (default) is derandomized, so every run tries the same
examples; ``HYPOTHESIS_PROFILE=explore`` (``make chaos``) tries many more, at random.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fakeredis
import pytest
import redis as redislib
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from app.clients.eboekhouden import EBoekhoudenClient
from app.logs import install_redaction
from app.migrate import upgrade
from sandbox.eboekhouden import EBoekhoudenSimulator
from sandbox.eboekhouden_rest import EBoekhoudenRestSimulator
from sandbox.faults import Faults
from sandbox.mijnwebwinkel import MijnwebwinkelSimulator
from sandbox.server import ServerThread
from tests.helpers import (
    API_TOKEN,
    BACKENDS,
    EB_CODE1,
    EB_CODE2,
    EB_USER,
    HYPOTHESIS_PROFILE,
    PG_AVAILABLE,
    PG_TEST_DB,
    REDIS_URL,
    SERVICES_AVAILABLE,
    Backend,
    Switch,
    World,
    _truncate,
    fresh_pg_database,
    make_world,
)

hypothesis_settings.register_profile(
    "suite", derandomize=True, deadline=None, database=None, print_blob=True
)
# Random and ten times the examples (tests/helpers.py ``examples``); what it finds is
# printed with its reproduction blob: add it to the test as an @example.
hypothesis_settings.register_profile(
    "explore",
    derandomize=False,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.load_profile(HYPOTHESIS_PROFILE)

TIERS = ("unit", "integration", "system")
# Fixtures that bring a database, Redis, a simulator or a server with them.
INTEGRATION_FIXTURES = {
    "backend",
    "embedded_backend",
    "world",
    "embedded_world",
    "pg_url",
    "sqlite_url",
    "mww_server",
    "eb_server",
    "switch",
    "web",
    "client",
}


def tier_of(item: pytest.Item) -> str:
    explicit = {m.name for m in item.iter_markers() if m.name in TIERS}
    if item.get_closest_marker("slow") or item.get_closest_marker("browser"):
        explicit.add("system")
    if len(explicit) > 1:  # -m would select it in two tiers
        raise pytest.UsageError(f"{item.nodeid} has more than one tier: {sorted(explicit)}")
    if explicit:
        return explicit.pop()
    if INTEGRATION_FIXTURES & set(getattr(item, "fixturenames", ())):
        return "integration"
    return "unit"


# The longest system tests, longest first: started first, they end with the others when
# the system tier runs on several workers (``make test``), instead of last and alone.
LONGEST_FIRST = (
    "tests/chaos/test_chaos.py",
    "tests/chaos/test_payment_chaos.py",
    "tests/test_deploy.py",
    "tests/test_scale.py",
    "tests/chaos/test_redis_restart.py",
    "tests/test_run.py",
)


def _duration_rank(item: pytest.Item) -> int:
    path = item.nodeid.split("::", 1)[0]
    return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = tier_of(item)
        if not item.get_closest_marker(tier):
            item.add_marker(getattr(pytest.mark, tier))
    # Stable: the other tiers keep their order, and come before the system tier.
    items.sort(key=lambda i: (1, _duration_rank(i)) if i.get_closest_marker("system") else (0, 0))


@pytest.fixture(autouse=True, scope="session")
def _log_redaction() -> None:
    """As in every process of the app (``configure_logging``, ``create_app``): urllib3's
    request lines are redacted."""
    install_redaction()


@pytest.fixture(scope="session")
def pg_url() -> str:
    if not PG_AVAILABLE:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    url = fresh_pg_database(PG_TEST_DB)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'ledger.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """SQLite + fakeredis, and PostgreSQL + Redis when they run here."""
    if request.param == "embedded":
        url = request.getfixturevalue("sqlite_url")
        redis: redislib.Redis = fakeredis.FakeRedis()
    else:
        if not SERVICES_AVAILABLE:
            pytest.skip("local PostgreSQL/Redis not running")
        url = request.getfixturevalue("pg_url")
        redis = redislib.Redis.from_url(REDIS_URL)
        redis.flushdb()
    _truncate(url)
    yield Backend(request.param, url, redis)
    if request.param == "services":
        redis.flushdb()


@pytest.fixture
def embedded_backend(sqlite_url: str) -> Backend:
    """Only the embedded pair, for tests that need no real services."""
    _truncate(sqlite_url)
    return Backend("embedded", sqlite_url, fakeredis.FakeRedis())


@pytest.fixture(scope="session")
def mww_server() -> Iterator[tuple[MijnwebwinkelSimulator, ServerThread]]:
    sim = MijnwebwinkelSimulator(faults=Faults(seed=1))
    with ServerThread(sim) as server:
        yield sim, server


@pytest.fixture(scope="session")
def eb_server() -> Iterator[tuple[EBoekhoudenSimulator, ServerThread]]:
    sim = EBoekhoudenSimulator(faults=Faults(seed=2))
    sim.add_administration(EB_USER, EB_CODE1, EB_CODE2, name="Testwinkel BV")
    with ServerThread(sim) as server:
        # The simulator's first SOAP answer takes ~2 s (first-use imports): paid here, so
        # the first test's 2-second client timeout does not (make_world resets the sim).
        warm = EBoekhoudenClient(
            EB_USER,
            EB_CODE1,
            EB_CODE2,
            url=f"{server.url}/soap.asmx",
            timeout=60,
            operation_timeout=60,
        )
        warm.verify()
        warm.close()
        yield sim, server


@pytest.fixture(scope="module")
def switch() -> Iterator[Switch]:
    target = Switch()
    with ServerThread(target) as server:
        target.server, target.url = server, server.url
        yield target


@pytest.fixture
def world(backend: Backend, mww_server: Any, eb_server: Any) -> Iterator[World]:
    """A connected shop on both backends (embedded, and real services when running)."""
    yield from make_world(backend, mww_server, eb_server)


@pytest.fixture
def embedded_world(embedded_backend: Backend, mww_server: Any, eb_server: Any) -> Iterator[World]:
    yield from make_world(embedded_backend, mww_server, eb_server)


@pytest.fixture(scope="session")
def rest_server() -> Iterator[tuple[EBoekhoudenRestSimulator, ServerThread]]:
    sim = EBoekhoudenRestSimulator()
    sim.add_administration(API_TOKEN, name="Testwinkel BV")
    with ServerThread(sim) as server:
        yield sim, server
