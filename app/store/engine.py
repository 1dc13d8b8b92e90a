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


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")  # several processes share the file
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


@cache
def engine_for(url: str) -> Engine:
    """One engine (and pool) per URL per process.

    A forked child (RQ's work horse) must not share its parent's pooled connections:
    ``dispose(close=False)`` in the child leaves them to the parent (SQLAlchemy's recipe
    for fork). The hook is registered here, with the engine it looks after.
    """
    engine = make_engine(url)
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    return engine


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """The only way the store writes: one transaction, committed on success."""
    with engine.begin() as conn:
        yield conn


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def insert_for(conn: Connection, table: Table) -> Any:
    """INSERT that can say ON CONFLICT DO NOTHING on both supported databases."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])
