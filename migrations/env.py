"""Alembic environment: the URL comes from the settings (DATABASE_URL), not an ini file.

Tests and tools may pass a URL with ``config.attributes["database_url"]`` or
``-x database_url=...``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from app.config import Settings
from app.store.db import metadata
from app.store.engine import make_engine

config = context.config
target_metadata = metadata


def database_url() -> str:
    return (
        config.attributes.get("database_url")
        or context.get_x_argument(as_dictionary=True).get("database_url")
        or Settings.from_env().database_url
    )


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(database_url())
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Two release phases at once must not interleave; fail fast on a held lock.
            connection.execute(text("SET lock_timeout = '10s'"))
            connection.execute(text("SELECT pg_advisory_lock(727470001)"))
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_unlock(727470001)"))
            connection.commit()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
