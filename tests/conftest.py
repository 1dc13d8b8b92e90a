"""Shared fixtures: databases, Redis, simulators, services.

Backends: every test that asks for ``backend`` runs twice, once on SQLite + fakeredis
(always) and once on the local PostgreSQL + Redis (when they answer; CI starts them).
Override with TEST_DATABASE_URL / TEST_REDIS_URL; set TEST_BACKENDS=embedded to run only
the embedded pair.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import fakeredis
import pytest
import redis as redislib
from sqlalchemy import create_engine, text

from app import db
from app.migrate import upgrade

PG_ADMIN_URL = os.environ.get(
    "TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
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
    """(Re)create database ``name`` and return its URL."""
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
