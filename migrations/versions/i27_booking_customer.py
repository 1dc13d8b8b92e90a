"""Bookings remember the customer's name, for the booking page.

Revision ID: i27_booking_customer
Revises: i29_start_date_roles_invitations
Create Date: 2026-12-05

Backward compatible with the previous release: one nullable column. Rows booked before
this migration have no name; the booking page then shows the relation code alone.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i27_booking_customer"
down_revision = "i29_start_date_roles_invitations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("customer", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("customer")
