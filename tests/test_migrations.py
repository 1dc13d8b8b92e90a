"""Migrations: up → down → up on SQLite and PostgreSQL, and in step with app.store.db."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select

from app.migrate import downgrade, upgrade
from app.store import db
from tests.helpers import PG_AVAILABLE, fresh_pg_database

TABLES = {
    "shops",
    "bookings",
    "payments",
    "reconcile_runs",
    "users",
    "shop_owners",
    "alembic_version",
    "booked_rows",
    "booking_attempts",
    "alert_prefs",
    "alert_marks",
    "report_accords",
}


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


def test_0004_keeps_users_as_admins_and_moves_the_previous_webhook_secret(
    empty_database: str,
) -> None:
    import datetime as dt

    from sqlalchemy import text

    upgrade(empty_database, "0001")
    engine = create_engine(empty_database)
    until = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO shops (id, name, webhook_key, status, credentials, webhook_secret, "
                "previous_webhook_secret, previous_secret_expires_at, mapping, created_at, "
                "updated_at) VALUES (1, 'w', 'k', 'active', 'c', 'now', 'before', :until, '{}', "
                ":until, :until)"
            ),
            {"until": until},
        )
        conn.execute(
            text(
                "INSERT INTO users (id, email, password_hash, created_at) "
                "VALUES (1, 'a@b.nl', 'h', :until)"
            ),
            {"until": until},
        )
    upgrade(empty_database, "0004")
    with engine.connect() as conn:
        role = conn.execute(text("SELECT role, disabled, session_version FROM users")).one()
        retired = conn.execute(select(db.shops.c.retired_webhook_secrets)).scalar_one()
    assert tuple(role) == ("admin", False, 0)
    assert retired == [{"secret": "before", "until": until.isoformat()}]
    downgrade(empty_database, "0001")
    with engine.connect() as conn:
        back = conn.execute(
            text("SELECT previous_webhook_secret, previous_secret_expires_at FROM shops")
        ).one()
    assert back[0] == "before"
    engine.dispose()


def test_0005_adds_and_removes_the_invoice_number(empty_database: str) -> None:
    upgrade(empty_database, "0004")
    engine = create_engine(empty_database)
    columns = {c["name"] for c in inspect(engine).get_columns("bookings")}
    assert "invoice_number" not in columns and "warnings" not in columns
    upgrade(empty_database, "0005")
    columns = {c["name"] for c in inspect(engine).get_columns("bookings")}
    assert {"invoice_number", "warnings"} <= columns
    downgrade(empty_database, "0004")
    columns = {c["name"] for c in inspect(engine).get_columns("bookings")}
    assert "invoice_number" not in columns and "warnings" not in columns
    engine.dispose()
