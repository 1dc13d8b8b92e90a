"""The engine, transactions and small helpers every store module uses (the tables are in
``db.py``)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")  # several processes share the file
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def make_engine(url: str, *, pre_ping: bool = True) -> Engine:
    """``pre_ping``: test each pooled connection before use (one round trip), so a page
    after a database restart works at once. The workers book without it (two commits and
    three checkouts a job: it was 7 % of a job, docs/benchmarks.md §5): a job that meets
    a connection the restart broke fails, SQLAlchemy drops the pool's old connections,
    and RQ's retry books the order 10 seconds later (docs/resilience.md)."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=pre_ping, pool_size=5, max_overflow=5)


@cache
def engine_for(url: str, *, pre_ping: bool = True) -> Engine:
    """One engine (and pool) per URL (and ``pre_ping``) per process.

    A forked child (RQ's work horse) must not share its parent's pooled connections:
    ``dispose(close=False)`` in the child leaves them to the parent (SQLAlchemy's recipe
    for fork). The hook is registered here, with the engine it looks after.
    """
    engine = make_engine(url, pre_ping=pre_ping)
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    return engine


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """The only way the store writes: one transaction, committed on success."""
    with engine.begin() as conn:
        yield conn


@contextmanager
def single_statement(engine: Engine) -> Iterator[Connection]:
    """For one statement on a hot path (a job's shop, a notification's shop, an order's
    first claim): atomic on its own, so no BEGIN and COMMIT or ROLLBACK around it, two
    fewer round trips. Not for several statements that belong together."""
    with engine.connect() as conn:
        yield conn.execution_options(isolation_level="AUTOCOMMIT")


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def insert_for(conn: Connection, table: Table) -> Any:
    """INSERT that can say ON CONFLICT DO NOTHING on both supported databases."""
    return insert_for_dialect(conn.dialect.name, table)


def insert_for_dialect(name: str, table: Table) -> Any:
    dialect = postgresql if name == "postgresql" else sqlite
    return dialect.insert(table)


def new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])
