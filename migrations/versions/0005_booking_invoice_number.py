"""Bookings remember the Factuurnummer they were booked with, and warnings for a person.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Backward compatible with the previous release: two nullable columns. Rows booked before
this migration have no invoice_number; they were booked with the bare order number (the
only format there was), which the pipeline uses when the column is empty.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("invoice_number", sa.String(50), nullable=True))
        batch.add_column(sa.Column("warnings", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("warnings")
        batch.drop_column("invoice_number")
