"""Issue 29: a shop's start date and which system refused its credentials, whose a failed
booking is (order or system), a role per person and shop, and invitations.

Revision ID: i29_start_date_roles_invitations
Revises: i24_booking_vat_facts
Create Date: 2026-12-05
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i29_start_date_roles_invitations"
down_revision = "i24_booking_vat_facts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing shops keep booking as they did: no start date (NULL), every link an owner.
    with op.batch_alter_table("shops") as batch:
        batch.add_column(sa.Column("status_system", sa.String(20), nullable=True))
        batch.add_column(sa.Column("book_from", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("failure_cause", sa.String(10), nullable=True))
    with op.batch_alter_table("shop_owners") as batch:
        batch.add_column(sa.Column("role", sa.String(10), nullable=False,
                                   server_default="owner"))
    # Failed bookings from before keep failure_cause NULL: treated as the order's, never
    # re-sent by themselves (a person may have booked them by hand since).
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("shop_id", sa.Integer(),
                  sa.ForeignKey("shops.id", ondelete="CASCADE",
                                name="fk_invitations_shop_id_shops"), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("invited_by", sa.Integer(),
                  sa.ForeignKey("users.id", ondelete="SET NULL",
                                name="fk_invitations_invited_by_users"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_invitations"),
        sa.UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
    )
    op.create_index("ix_invitations_shop_id", "invitations", ["shop_id"])


def downgrade() -> None:
    op.drop_index("ix_invitations_shop_id", table_name="invitations")
    op.drop_table("invitations")
    # A paused or removed shop has no earlier status: paused is switched off by hand
    # (disabled), removed ones keep their erased credentials and stay off.
    op.execute("UPDATE shops SET status = 'disabled' WHERE status IN ('paused', 'removed')")
    with op.batch_alter_table("shop_owners") as batch:
        batch.drop_column("role")
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("failure_cause")
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("book_from")
        batch.drop_column("status_system")
