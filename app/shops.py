"""Shops: registering, reading (decrypted) and rotating webhook secrets.

A ``Shop`` is the decrypted, typed view of a ``shops`` row that the pipeline, the webhook
view and the reconciler work with. Secrets are decrypted only here and never logged.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from dataclasses import dataclass, field

from sqlalchemy import Connection

from app import ledger
from app.core.mapping_settings import MappingSettings
from app.crypto import Vault
from app.store.db import utcnow

ACTIVE, DRAFT, DISABLED, AUTH_FAILED = "active", "draft", "disabled", "auth_failed"
SECRET_GRACE = dt.timedelta(hours=24)  # the old webhook secret keeps working this long


@dataclass(frozen=True, slots=True)
class Credentials:
    mww_token: str = field(repr=False)
    eb_username: str
    eb_code1: str = field(repr=False)
    eb_code2: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Shop:
    id: int
    name: str
    status: str
    webhook_key: str
    credentials: Credentials
    webhook_secrets: tuple[str, ...] = field(repr=False)  # current first
    mapping: MappingSettings
    watermark: dt.datetime | None = None
    status_error: str | None = None

    @property
    def accepts_notifications(self) -> bool:
        return self.status in (ACTIVE, AUTH_FAILED)


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_webhook_key() -> str:
    return secrets.token_urlsafe(18)


def from_row(row: ledger.ShopRow, vault: Vault, now: dt.datetime | None = None) -> Shop:
    now = now or utcnow()
    creds = vault.decrypt_json(row.credentials)
    secrets_ = [vault.decrypt(row.webhook_secret)]
    if (row.previous_webhook_secret and row.previous_secret_expires_at
            and row.previous_secret_expires_at > now):
        secrets_.append(vault.decrypt(row.previous_webhook_secret))
    return Shop(
        id=row.id, name=row.name, status=row.status, webhook_key=row.webhook_key,
        credentials=Credentials(creds["mww_token"], creds["eb_username"], creds["eb_code1"],
                                creds["eb_code2"]),
        webhook_secrets=tuple(secrets_),
        mapping=MappingSettings.from_json(row.mapping),
        watermark=row.watermark, status_error=row.status_error,
    )


def register(conn: Connection, vault: Vault, *, name: str, credentials: Credentials,
             mapping: MappingSettings | None = None, status: str = DRAFT) -> tuple[int, str]:
    """Store a new shop; returns its id and its (only ever shown here) webhook secret."""
    secret = new_webhook_secret()
    shop_id = ledger.create_shop(
        conn, name=name, webhook_key=new_webhook_key(),
        credentials=vault.encrypt_json({
            "mww_token": credentials.mww_token, "eb_username": credentials.eb_username,
            "eb_code1": credentials.eb_code1, "eb_code2": credentials.eb_code2,
        }),
        webhook_secret=vault.encrypt(secret),
        mapping=(mapping or MappingSettings()).to_json(), status=status,
    )
    return shop_id, secret


def load(conn: Connection, vault: Vault, shop_id: int) -> Shop | None:
    row = ledger.get_shop(conn, shop_id)
    return from_row(row, vault) if row else None


def load_by_key(conn: Connection, vault: Vault, webhook_key: str) -> Shop | None:
    row = ledger.get_shop_by_key(conn, webhook_key)
    return from_row(row, vault) if row else None


def rotate_secret(conn: Connection, vault: Vault, shop_id: int) -> str:
    """New current secret; the old one stays valid for ``SECRET_GRACE``."""
    row = ledger.get_shop(conn, shop_id)
    if row is None:
        raise LookupError(f"no shop {shop_id}")
    secret = new_webhook_secret()
    ledger.update_shop(
        conn, shop_id, webhook_secret=vault.encrypt(secret),
        previous_webhook_secret=row.webhook_secret,
        previous_secret_expires_at=utcnow() + SECRET_GRACE,
    )
    return secret


def webhook_url(public_base_url: str, webhook_key: str) -> str:
    return f"{public_base_url.rstrip('/')}/webhooks/mijnwebwinkel/{webhook_key}"
