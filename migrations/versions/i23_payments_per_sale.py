"""Payments per sale (a refund on one credit note only) and the mode each order was booked in.

Revision ID: i23_payments_per_sale
Revises: 0007
Create Date: 2026-12-09

- payments.sale_number: the sale whose payments listing holds the movement, unique per
  shop with payment_key, so one refund can never be booked on two credit notes. Captures
  are their own sale's; refunds from before are left NULL (which sale they came from was
  not stored) and keep their rows.
- bookings.booking_mode: the mode an order was booked in. Filled for booked rows from
  what they carry: a GeldOntvangen is cash, a tracked payment state invoice_and_payment,
  the rest invoice (payments are booked only for invoices booked in a payment mode).

Backward compatible with the previous release: two nullable columns and a unique
constraint no existing row can break (existing refund rows have no sale_number).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i23_payments_per_sale"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("sale_number", sa.String(50), nullable=True))
    op.execute("UPDATE payments SET sale_number = order_number WHERE kind = 'capture'")
    with op.batch_alter_table("payments") as batch:
        batch.create_unique_constraint(
            "uq_payments_shop_sale_key", ["shop_id", "sale_number", "payment_key"]
        )
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("booking_mode", sa.String(20), nullable=True))
    op.execute(
        "UPDATE bookings SET booking_mode = 'cash' WHERE state = 'booked' AND id IN "
        "(SELECT booking_id FROM booked_rows WHERE soort = 'GeldOntvangen')"
    )
    op.execute(
        "UPDATE bookings SET booking_mode = 'invoice_and_payment' WHERE state = 'booked' "
        "AND booking_mode IS NULL AND payment_state IS NOT NULL"
    )
    op.execute(
        "UPDATE bookings SET booking_mode = 'invoice' WHERE state = 'booked' "
        "AND booking_mode IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("booking_mode")
    with op.batch_alter_table("payments") as batch:
        batch.drop_constraint("uq_payments_shop_sale_key", type_="unique")
        batch.drop_column("sale_number")
