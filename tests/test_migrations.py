"""Migrations: up → down → up on SQLite and PostgreSQL, and in step with app.store.db."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select

from app.migrate import downgrade, upgrade
from app.store import db
from tests.helpers import PG_AVAILABLE, fresh_pg_database

pytestmark = pytest.mark.integration  # SQLite files and PostgreSQL

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
    "invitations",
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


def test_i23_fills_sale_numbers_and_booking_modes_and_goes_back(empty_database: str) -> None:
    """Captures become their own sale's; booked rows get the mode they were booked in (a
    GeldOntvangen: cash; a tracked payment state: invoice_and_payment; else invoice); old
    refunds keep no sale (unknown), so the new unique constraint holds for existing data."""
    import datetime as dt

    from sqlalchemy import text

    upgrade(empty_database, "0007")
    engine = create_engine(empty_database)
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO shops (id, name, webhook_key, status, credentials, webhook_secret, "
                "mapping, created_at, updated_at) VALUES (1, 'w', 'k', 'active', 'c', 's', '{}', "
                ":now, :now)"
            ),
            {"now": now},
        )
        for booking_id, number, state, payment_state in (
            (1, "7001", "booked", None),  # mode invoice
            (2, "7002", "booked", "open"),  # invoice_and_payment
            (3, "7003", "booked", "settled"),  # cash: its GeldOntvangen row below
            (4, "7004", "skipped", "open"),  # cash, waiting for money: not booked
            (5, "7005", "booked", "settled"),  # credit note of 7002, refunded twice (the bug)
            (6, "7006", "booked", "settled"),
        ):
            conn.execute(
                text(
                    "INSERT INTO bookings (id, shop_id, order_number, kind, state, attempts, "
                    "uncertain, created_at, updated_at, payment_state) VALUES (:id, 1, :n, "
                    "'order', :state, 1, false, :now, :now, :ps)"
                ),
                {"id": booking_id, "n": number, "state": state, "now": now, "ps": payment_state},
            )
        conn.execute(
            text(
                "INSERT INTO booked_rows (booking_id, shop_id, soort, date, ledger, btw_code, "
                "excl, vat, incl, invoice_number) VALUES (3, 1, 'GeldOntvangen', :day, '8010', "
                "'HOOG_VERK_21', 10, 2.10, 12.10, '7003')"
            ),
            {"day": now.date()},
        )
        for payment_id, number, key, kind in (
            (1, "7002", "p:1", "capture"),
            (2, "7005", "p:2", "refund"),
            (3, "7006", "p:2", "refund"),  # the same refund on a second credit note
        ):
            conn.execute(
                text(
                    "INSERT INTO payments (id, shop_id, order_number, payment_key, kind, method, "
                    "payment_date, amount, state, attempts, uncertain, created_at, updated_at) "
                    "VALUES (:id, 1, :n, :key, :kind, 'ideal', :day, 10, 'booked', 1, false, "
                    ":now, :now)"
                ),
                {
                    "id": payment_id,
                    "n": number,
                    "key": key,
                    "kind": kind,
                    "day": now.date(),
                    "now": now,
                },
            )
    upgrade(empty_database, "i23_payments_per_sale")
    with engine.connect() as conn:
        modes = dict(conn.execute(text("SELECT order_number, booking_mode FROM bookings")).all())
        sales = dict(conn.execute(text("SELECT id, sale_number FROM payments")).all())
    assert modes == {
        "7001": "invoice",
        "7002": "invoice_and_payment",
        "7003": "cash",
        "7004": None,
        "7005": "invoice_and_payment",
        "7006": "invoice_and_payment",
    }
    assert sales == {1: "7002", 2: None, 3: None}
    downgrade(empty_database, "0007")
    columns = {c["name"] for c in inspect(engine).get_columns("payments")}
    assert "sale_number" not in columns
    assert "booking_mode" not in {c["name"] for c in inspect(engine).get_columns("bookings")}
    engine.dispose()
