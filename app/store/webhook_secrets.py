"""A shop's webhook secrets: the current one and the earlier ones still in their grace.

"Nieuw geheim" makes a new current secret; every earlier one keeps working until its own
``SECRET_GRACE`` ends (24 hours from its replacement), so two rotations in a row do not cut
the sender off. At most ``MAX_KEPT_WEBHOOK_SECRETS`` earlier secrets are kept (the oldest
goes first): a webhook checks every kept secret, so their number bounds that work and the
row. "Oude geheimen nu intrekken" ends every earlier secret at once (a secret that leaked).
How often a shop may rotate is limited by the page (app/web/shops.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from typing import Any

from sqlalchemy import Engine, select, update

from app.config import MAX_KEPT_WEBHOOK_SECRETS, WEBHOOK_SECRET_GRACE
from app.crypto import Vault
from app.store.db import shops
from app.store.engine import transaction, utcnow

SECRET_GRACE = dt.timedelta(seconds=WEBHOOK_SECRET_GRACE)


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_webhook_key() -> str:
    return secrets.token_urlsafe(18)


def webhook_url(public_base_url: str, webhook_key: str) -> str:
    return f"{public_base_url.rstrip('/')}/webhooks/mijnwebwinkel/{webhook_key}"


def readable_secrets(
    vault: Vault, row: Any, now: dt.datetime
) -> tuple[tuple[str, ...], dt.datetime | None]:
    """The row's valid secrets, current first, and when the last earlier one expires."""
    retired = valid_retired(row.retired_webhook_secrets, now)
    found = [vault.decrypt(row.webhook_secret)]
    found += [vault.decrypt(entry["secret"]) for entry in retired]
    return tuple(found), max((_until(entry) for entry in retired), default=None)


def rotate(engine: Engine, vault: Vault, shop_id: int) -> str:
    """A new current secret; the oldest earlier ones beyond ``MAX_KEPT_WEBHOOK_SECRETS``
    (and those whose grace had ended) are dropped."""
    secret = new_webhook_secret()
    now = utcnow()
    with transaction(engine) as conn:
        row = conn.execute(
            select(shops.c.webhook_secret, shops.c.retired_webhook_secrets)
            .where(shops.c.id == shop_id)
            .with_for_update()
        ).first()
        if row is None:
            raise LookupError(f"no shop {shop_id}")
        retired = [{"secret": row.webhook_secret, "until": (now + SECRET_GRACE).isoformat()}]
        retired += valid_retired(row.retired_webhook_secrets, now)
        conn.execute(
            update(shops)
            .where(shops.c.id == shop_id)
            .values(
                webhook_secret=vault.encrypt(secret),
                retired_webhook_secrets=retired[:MAX_KEPT_WEBHOOK_SECRETS],  # newest first
                updated_at=now,
            )
        )
    return secret


def revoke_earlier(engine: Engine, shop_id: int) -> int:
    """Every earlier secret stops working now; returns how many were still valid."""
    now = utcnow()
    with transaction(engine) as conn:
        row = conn.execute(
            select(shops.c.retired_webhook_secrets).where(shops.c.id == shop_id).with_for_update()
        ).first()
        if row is None:
            raise LookupError(f"no shop {shop_id}")
        valid = len(valid_retired(row.retired_webhook_secrets, now))
        conn.execute(
            update(shops)
            .where(shops.c.id == shop_id)
            .values(retired_webhook_secrets=[], updated_at=now)
        )
    return valid


def _until(entry: dict[str, str]) -> dt.datetime:
    return dt.datetime.fromisoformat(entry["until"])


def valid_retired(retired: list[dict[str, str]] | None, now: dt.datetime) -> list[dict[str, str]]:
    """The retired secrets whose grace period has not ended, newest first, at most
    ``MAX_KEPT_WEBHOOK_SECRETS`` (a row from before the cap may hold more)."""
    valid = [entry for entry in retired or [] if _until(entry) > now]
    return valid[:MAX_KEPT_WEBHOOK_SECRETS]
