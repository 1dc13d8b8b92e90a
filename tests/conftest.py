"""Shared fixtures: databases, Redis, simulators, services.

Backends: every test that asks for ``backend`` runs twice, once on SQLite + fakeredis
(always) and once on the local PostgreSQL + Redis (when they answer; CI starts them).
Override with TEST_PG_ADMIN_URL / TEST_REDIS_URL; set TEST_BACKENDS=embedded to run only
the embedded pair.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import fakeredis
import pytest
import redis as redislib
from sqlalchemy import create_engine, text

from app.clients.eboekhouden import EBoekhoudenClient
from app.clients.mijnwebwinkel import MijnwebwinkelClient
from app.config import Settings
from app.crypto import generate_key
from app.fastpaths import SessionStore
from app.logs import install_redaction
from app.migrate import upgrade
from app.queue import get_queue
from app.services import Services
from app.states import ShopStatus
from app.store import db
from app.store.shops import Credentials, Shop
from sandbox.eboekhouden import EBoekhoudenSimulator
from sandbox.faults import Faults
from sandbox.mijnwebwinkel import MijnwebwinkelSimulator
from sandbox.order_factory import make_order
from sandbox.server import ServerThread

PG_ADMIN_URL = os.environ.get(
    "TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# Parallel checkouts on one machine set TEST_DB_SUFFIX (and TEST_REDIS_URL) to keep apart.
DB_SUFFIX = os.environ.get("TEST_DB_SUFFIX", "")
PG_TEST_DB = "mww_connector_test"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _pg_available() -> bool:
    if os.environ.get("TEST_BACKENDS") == "embedded":
        return False
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def _redis_available() -> bool:
    if os.environ.get("TEST_BACKENDS") == "embedded":
        return False
    try:
        return bool(redislib.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


PG_AVAILABLE = _pg_available()
REDIS_AVAILABLE = _redis_available()
SERVICES_AVAILABLE = PG_AVAILABLE and REDIS_AVAILABLE


def fresh_pg_database(name: str) -> str:
    """(Re)create database ``name`` (+ ``TEST_DB_SUFFIX``) and return its URL."""
    name += DB_SUFFIX
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@dataclass
class Backend:
    name: str
    database_url: str
    redis: redislib.Redis


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


def _truncate(url: str) -> None:
    engine = db.engine_for(url)
    with engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


BACKENDS = ["embedded", "services"]


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


# --- simulators and a connected shop ----------------------------------------------



MWW_TOKEN = "shop-token-1234567890"
EB_USER = "winkelier"
EB_CODE1 = "code-one-secret"
EB_CODE2 = "0B5A7C1E-1111-2222-3333-444455556666"


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
        yield sim, server


class Switch:
    """One loopback server per test module whose WSGI app each test plugs in (cheaper than
    a server per test)."""

    def __init__(self) -> None:
        self.app: Any = None
        self.server: ServerThread | None = None
        self.url = ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        assert self.app is not None, "plug an app into the switch first"
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def switch() -> Iterator[Switch]:
    target = Switch()
    with ServerThread(target) as server:
        target.server, target.url = server, server.url
        yield target


@dataclass
class World:
    """A connected shop: our services, both simulators, and the shop on each side."""

    services: Services
    settings: Settings
    mww: MijnwebwinkelSimulator
    eb: EBoekhoudenSimulator
    mww_url: str
    eb_url: str
    shop: Shop
    webhook_secret: str

    @property
    def sim_shop(self) -> Any:
        return self.mww.shop(MWW_TOKEN)

    def add_order(self, number: int, *, kind: str = "domestic", status: int = 3,
                  **kw: Any) -> dict[str, Any]:
        order = make_order(number, kind=kind, status=status,
                           date=kw.pop("date", dt.date(2026, 11, 2)), **kw)
        return self.sim_shop.add_order(order)

    def mutations(self) -> list[dict[str, Any]]:
        return self.eb.mutations(EB_USER)

    def mutations_for(self, number: int | str) -> list[dict[str, Any]]:
        return [m for m in self.mutations() if m.get("Factuurnummer") == str(number)]

    def reload_shop(self) -> Shop:
        shop = self.services.load_shop(self.shop.id)
        assert shop is not None
        self.shop = shop
        return shop


def make_world(backend: Backend, mww_server: Any, eb_server: Any) -> Iterator[World]:
    mww, mww_thread = mww_server
    eb, eb_thread = eb_server
    mww.faults.clear()
    mww.shops.clear()
    mww.calls.clear()
    mww.add_shop(MWW_TOKEN, name="Testwinkel")
    eb.faults.clear()
    eb.reset()
    settings = Settings(
        database_url=backend.database_url, redis_url="redis://unused", secret_key="test",
        encryption_key=generate_key(), public_base_url="http://connector.test",
        mijnwebwinkel_api_url=mww_thread.url,
        eboekhouden_soap_url=f"{eb_thread.url}/soap.asmx",
        http_timeout=2.0, soap_operation_timeout=2.0,
    )
    redis = backend.redis

    def shop_api(shop: Shop) -> MijnwebwinkelClient:
        return MijnwebwinkelClient(shop.credentials.mww_token, base_url=mww_thread.url,
                                   timeout=2.0, max_retries=2, backoff=0.01)

    def bookkeeping(shop: Shop) -> EBoekhoudenClient:
        creds = shop.credentials
        return EBoekhoudenClient(creds.eb_username, creds.eb_code1, creds.eb_code2,
                                 url=settings.eboekhouden_soap_url, timeout=2.0,
                                 operation_timeout=2.0,
                                 session_store=SessionStore(redis, shop.id, creds.eb_username))

    from app.crypto import Vault

    services = Services(settings=settings, engine=db.engine_for(backend.database_url),
                        redis=redis, vault=Vault(settings.encryption_key),
                        queue=get_queue(redis, settings.queue_name),
                        shop_api_factory=shop_api, bookkeeping_factory=bookkeeping)
    shop_id, secret = services.store.shops.register(
        name="Testwinkel", status=ShopStatus.ACTIVE,
        credentials=Credentials(MWW_TOKEN, EB_USER, EB_CODE1, EB_CODE2))
    shop = services.load_shop(shop_id)
    assert shop is not None
    yield World(services, settings, mww, eb, mww_thread.url, eb_thread.url, shop, secret)
    services.close()


@pytest.fixture
def world(backend: Backend, mww_server: Any, eb_server: Any) -> Iterator[World]:
    """A connected shop on both backends (embedded, and real services when running)."""
    yield from make_world(backend, mww_server, eb_server)


@pytest.fixture
def embedded_world(embedded_backend: Backend, mww_server: Any,
                   eb_server: Any) -> Iterator[World]:
    yield from make_world(embedded_backend, mww_server, eb_server)
