"""Migrations: up → down → up on SQLite and PostgreSQL, and in step with app.store.db."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.migrate import downgrade, upgrade
from app.store import db
from tests.helpers import PG_AVAILABLE, fresh_pg_database

TABLES = {"shops", "bookings", "reconcile_runs", "users", "alembic_version"}





@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    if not PG_AVAILABLE:
        pytest.skip("PostgreSQL is not running")
    return fresh_pg_database("mww_connector_migrations")


def test_upgrade_downgrade_upgrade(empty_database: str) -> None:
    upgrade(empty_database)
    engine = create_engine(empty_database)
    assert set(inspect(engine).get_table_names()) == TABLES
    downgrade(empty_database, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(empty_database)
    assert set(inspect(engine).get_table_names()) == TABLES
    engine.dispose()


def test_migrations_match_the_table_definitions(empty_database: str) -> None:
    upgrade(empty_database)
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, db.metadata)
    engine.dispose()
    assert diff == []


def test_0002_adds_and_removes_the_invoice_number(empty_database: str) -> None:
    upgrade(empty_database, "0001")
    engine = create_engine(empty_database)
    columns = {c["name"] for c in inspect(engine).get_columns("bookings")}
    assert "invoice_number" not in columns and "warnings" not in columns
    upgrade(empty_database, "0002")
    columns = {c["name"] for c in inspect(engine).get_columns("bookings")}
    assert {"invoice_number", "warnings"} <= columns
    downgrade(empty_database, "0001")
    columns = {c["name"] for c in inspect(engine).get_columns("bookings")}
    assert "invoice_number" not in columns and "warnings" not in columns
    engine.dispose()
