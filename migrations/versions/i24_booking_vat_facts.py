"""Bookings keep their VAT facts: the destination, the ICP buyer's VAT number, the OSS
amounts per member state and rate (issue 24; app.core.destination.vat_facts and
app.core.oss.oss_amounts compute them, the Controle report's VAT-return view reads them).

Revision ID: i24_booking_vat_facts
Revises: i23_payments_per_sale
Create Date: 2026-12-05
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i24_booking_vat_facts"
down_revision = "i23_payments_per_sale"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("destination", sa.String(2), nullable=True))
        batch.add_column(sa.Column("buyer_vat_number", sa.String(50), nullable=True))
        batch.add_column(sa.Column("oss_amounts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("oss_amounts")
        batch.drop_column("buyer_vat_number")
        batch.drop_column("destination")
