"""The period report (issue 25): what the VAT return needs per booking and row, and the
bookkeeper's "akkoord" marks on differences with e-Boekhouden.

(The destination and the buyer's VAT number per booking are issue 24's columns:
i24_booking_vat_facts.)
booked_rows: the mutation's own ledger (Rekening: where the money went in cash mode) and,
for OSS rows, the destination country, its rate and whether the row is its VAT.
report_accords: a difference (missing, changed or unknown in the books) marked akkoord.

Revision ID: i25_report_facts
Revises: i27_booking_customer
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i25_report_facts"
down_revision = "i27_booking_customer"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("booked_rows") as batch:
        batch.add_column(sa.Column("account", sa.String(20), nullable=True))
        batch.add_column(sa.Column("oss_country", sa.String(2), nullable=True))
        batch.add_column(sa.Column("oss_rate", sa.Numeric(5, 2), nullable=True))
        batch.add_column(
            sa.Column("oss_vat", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "report_accords",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("shop_id", sa.Integer(),
                  sa.ForeignKey("shops.id", ondelete="CASCADE",
                                name="fk_report_accords_shop_id_shops"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("invoice_number", sa.String(50), nullable=False),
        sa.Column("mutation_number", sa.BigInteger(), nullable=False),
        sa.Column("difference", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("by_email", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_accords"),
        sa.UniqueConstraint("shop_id", "kind", "invoice_number", "mutation_number",
                            name="uq_report_accords_shop_id"),
    )


def downgrade() -> None:
    op.drop_table("report_accords")
    with op.batch_alter_table("booked_rows") as batch:
        batch.drop_column("oss_vat")
        batch.drop_column("oss_rate")
        batch.drop_column("oss_country")
        batch.drop_column("account")
