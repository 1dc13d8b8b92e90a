"""Run Alembic migrations from code (release phase, tests, `make run`)."""

from __future__ import annotations

import argparse
import sys

from alembic import command
from alembic.config import Config

from app.config import PROJECT_ROOT, Settings
from app.crypto import Vault
from app.errors import ConfigError


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(toml_file=str(PROJECT_ROOT / "pyproject.toml"))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def release() -> int:
    """The Procfile's release phase: refuse to migrate for a deployment that cannot run.

    A platform can generate SECRET_KEY but not a Fernet key, so a fresh app may come up
    without ENCRYPTION_KEY (or with a random string in it): stop the deploy here, before
    any process starts, with one message saying how to make one.
    """
    try:
        Vault(Settings.from_env().encryption_key)  # also: every production variable is set
    except ConfigError as err:
        hint = (
            ""
            if "ENCRYPTION_KEY" not in str(err) or "generate" in str(err)
            else ". Make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())' and set it as ENCRYPTION_KEY"
        )
        print(f"release: {err}{hint}", file=sys.stderr)
        return 2
    upgrade()
    return 0


def parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog="python -m app.migrate",
        description="The Procfile's release phase: check the production settings "
        "(ENCRYPTION_KEY a Fernet key, every required variable set), then migrate the "
        "database (DATABASE_URL) to the newest schema. Safe to run again.",
    )


if __name__ == "__main__":  # `python -m app.migrate`: the Procfile's release phase
    parser().parse_args()
    sys.exit(release())
