"""booked_rows, booking_attempts, alert_prefs and alert_marks (issue 17).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "booked_rows",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("booking_id", sa.Integer(),
                  sa.ForeignKey("bookings.id", ondelete="CASCADE",
                                name="fk_booked_rows_booking_id_bookings"), nullable=False),
        sa.Column("shop_id", sa.Integer(),
                  sa.ForeignKey("shops.id", ondelete="CASCADE",
                                name="fk_booked_rows_shop_id_shops"), nullable=False),
        sa.Column("mutation_number", sa.BigInteger(), nullable=True),
        sa.Column("soort", sa.String(40), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("ledger", sa.String(20), nullable=False),
        sa.Column("btw_code", sa.String(20), nullable=False),
        sa.Column("excl", sa.Numeric(14, 2), nullable=False),
        sa.Column("vat", sa.Numeric(14, 2), nullable=False),
        sa.Column("incl", sa.Numeric(14, 2), nullable=False),
        sa.Column("invoice_number", sa.String(50), nullable=False),
    )
    op.create_index("ix_booked_rows_shop_date", "booked_rows", ["shop_id", "date"])
    op.create_index("ix_booked_rows_booking_id", "booked_rows", ["booking_id"])
    op.create_table(
        "booking_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("booking_id", sa.Integer(),
                  sa.ForeignKey("bookings.id", ondelete="CASCADE",
                                name="fk_booking_attempts_booking_id_bookings"),
                  nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_text", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_booking_attempts_booking_id", "booking_attempts", ["booking_id"])
    op.create_index("ix_booking_attempts_outcome_at", "booking_attempts", ["outcome", "at"])
    op.create_table(
        "alert_prefs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(),
                  sa.ForeignKey("users.id", ondelete="CASCADE",
                                name="fk_alert_prefs_user_id_users"), nullable=False),
        sa.Column("shop_id", sa.Integer(),
                  sa.ForeignKey("shops.id", ondelete="CASCADE",
                                name="fk_alert_prefs_shop_id_shops"), nullable=True),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("credentials", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_alert_prefs_user_id", "alert_prefs", ["user_id"])
    op.create_table(
        "alert_marks",
        sa.Column("shop_id", sa.Integer(),
                  sa.ForeignKey("shops.id", ondelete="CASCADE",
                                name="fk_alert_marks_shop_id_shops"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reported_upto", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("shop_id", "kind", name="pk_alert_marks"),
    )


def downgrade() -> None:
    op.drop_table("alert_marks")
    op.drop_index("ix_alert_prefs_user_id", table_name="alert_prefs")
    op.drop_table("alert_prefs")
    op.drop_index("ix_booking_attempts_outcome_at", table_name="booking_attempts")
    op.drop_index("ix_booking_attempts_booking_id", table_name="booking_attempts")
    op.drop_table("booking_attempts")
    op.drop_index("ix_booked_rows_booking_id", table_name="booked_rows")
    op.drop_index("ix_booked_rows_shop_date", table_name="booked_rows")
    op.drop_table("booked_rows")
