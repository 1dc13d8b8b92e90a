"""``flask keys rotate``: re-encrypt the stored secrets with the newest key."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from app.cli.common import fail
from app.errors import ConfigError

keys_cli = AppGroup("keys", help="The encryption keys of stored secrets.")


@keys_cli.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Re-encrypt every stored secret with the newest ENCRYPTION_KEY (the first listed).
    Safe to repeat; afterwards the older keys can be removed from ENCRYPTION_KEY."""
    services = current_app.extensions["services"]
    try:
        changed, current = services.store.shops.reencrypt_all()
    except ConfigError as err:
        fail(f"{err}; keep the old key in ENCRYPTION_KEY until this command succeeds", 1)
    services.webhook_shops.forget()
    click.echo(json.dumps({"reencrypted": changed, "already_current": current}))
