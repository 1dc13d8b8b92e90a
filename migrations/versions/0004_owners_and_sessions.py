"""Owners and sessions: users get a role, a disabled flag and a session version; the
shop_owners link table; a shop keeps every webhook secret still inside its grace period.

Existing users become administrators: before this revision every user saw every shop.

Revision ID: 0004
Revises: 0001
Create Date: 2026-12-02
"""
from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("role", sa.String(10), nullable=False,
                                   server_default="owner"))
        batch.add_column(sa.Column("disabled", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False,
                                   server_default="0"))
    op.execute("UPDATE users SET role = 'admin'")  # they saw every shop until now
    op.create_table(
        "shop_owners",
        sa.Column("user_id", sa.Integer(),
                  sa.ForeignKey("users.id", ondelete="CASCADE",
                                name="fk_shop_owners_user_id_users"), primary_key=True),
        sa.Column("shop_id", sa.Integer(),
                  sa.ForeignKey("shops.id", ondelete="CASCADE",
                                name="fk_shop_owners_shop_id_shops"), primary_key=True),
        sa.PrimaryKeyConstraint("user_id", "shop_id", name="pk_shop_owners"),
    )
    op.create_index("ix_shop_owners_shop_id", "shop_owners", ["shop_id"])

    op.add_column("shops", sa.Column("retired_webhook_secrets", sa.JSON(), nullable=True))
    conn = op.get_bind()
    shops = sa.table("shops", sa.column("id", sa.Integer()),
                     sa.column("previous_webhook_secret", sa.Text()),
                     sa.column("previous_secret_expires_at", sa.DateTime(timezone=True)),
                     sa.column("retired_webhook_secrets", sa.JSON()))
    rows = conn.execute(sa.select(shops).where(
        shops.c.previous_webhook_secret.is_not(None))).all()
    for row in rows:  # the tokens stay encrypted: they only move
        until = row.previous_secret_expires_at
        if until is None:
            continue
        if until.tzinfo is None:
            until = until.replace(tzinfo=dt.UTC)
        conn.execute(sa.update(shops).where(shops.c.id == row.id).values(
            retired_webhook_secrets=[{"secret": row.previous_webhook_secret,
                                      "until": until.isoformat()}]))
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("previous_webhook_secret")
        batch.drop_column("previous_secret_expires_at")


def downgrade() -> None:
    with op.batch_alter_table("shops") as batch:
        batch.add_column(sa.Column("previous_webhook_secret", sa.Text(), nullable=True))
        batch.add_column(sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True),
                                   nullable=True))
    conn = op.get_bind()
    shops = sa.table("shops", sa.column("id", sa.Integer()),
                     sa.column("previous_webhook_secret", sa.Text()),
                     sa.column("previous_secret_expires_at", sa.DateTime(timezone=True)),
                     sa.column("retired_webhook_secrets", sa.JSON()))
    for row in conn.execute(sa.select(shops.c.id, shops.c.retired_webhook_secrets)).all():
        retired = row.retired_webhook_secrets
        if isinstance(retired, str):
            retired = json.loads(retired)
        if retired:  # the newest retired secret is the one the old schema can hold
            conn.execute(sa.update(shops).where(shops.c.id == row.id).values(
                previous_webhook_secret=retired[0]["secret"],
                previous_secret_expires_at=dt.datetime.fromisoformat(retired[0]["until"])))
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("retired_webhook_secrets")
    op.drop_index("ix_shop_owners_shop_id", table_name="shop_owners")
    op.drop_table("shop_owners")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
        batch.drop_column("disabled")
        batch.drop_column("role")
