"""Shops: registering, reading (decrypted), settings, status and webhook secrets.

A ``Shop`` is the one typed, decrypted view of a ``shops`` row that the pipeline, the
webhook, the reconciler and the pages work with. Secrets are decrypted only here and
never logged. Every function owns its transaction.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from app.config import WEBHOOK_SECRET_GRACE
from app.core.mapping_settings import MappingSettings
from app.crypto import Vault
from app.states import EbApi, ShopStatus
from app.store.db import aware, new_id, shop_owners, shops, single_statement, transaction, utcnow

SECRET_GRACE = dt.timedelta(seconds=WEBHOOK_SECRET_GRACE)
# e-Boekhouden's SOAP API refuses shorter usernames (the incumbent's manual says so too).
MIN_EB_USERNAME = 6


@dataclass(frozen=True, slots=True)
class Credentials:
    """A shop's secrets. e-Boekhouden: an API token (REST, preferred) or the SOAP username
    and security codes; ``eb_api`` says which adapter books for the shop."""

    mww_token: str = field(repr=False)
    eb_username: str = ""
    eb_code1: str = field(default="", repr=False)
    eb_code2: str = field(default="", repr=False)
    eb_api_token: str = field(default="", repr=False)

    @property
    def eb_api(self) -> EbApi:
        return EbApi.REST if self.eb_api_token else EbApi.SOAP

    @property
    def administration_key(self) -> str:
        """The e-Boekhouden administration these credentials reach, as a key: the shops of
        one accountant may share an administration, and with it e-Boekhouden's limits
        (GetMutaties calls a month, concurrent calls). SOAP: the username (one per
        administration); REST: a digest of the API token (never the token itself). Two
        REST tokens of one administration count as two (docs/assumptions-eboekhouden.md)."""
        if self.eb_api_token:
            digest = hashlib.sha256(self.eb_api_token.encode()).hexdigest()[:16]
            return f"rest:{digest}"
        return f"soap:{self.eb_username.strip().casefold()}"

    def to_json(self) -> dict[str, str]:
        data = {
            "mww_token": self.mww_token,
            "eb_username": self.eb_username,
            "eb_code1": self.eb_code1,
            "eb_code2": self.eb_code2,
        }
        if self.eb_api_token:
            data["eb_api_token"] = self.eb_api_token
        return data

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Credentials:
        return cls(
            data["mww_token"],
            data.get("eb_username", ""),
            data.get("eb_code1", ""),
            data.get("eb_code2", ""),
            data.get("eb_api_token", ""),
        )


@dataclass(frozen=True, slots=True)
class Shop:
    id: int
    name: str
    status: ShopStatus
    webhook_key: str
    credentials: Credentials
    webhook_secrets: tuple[str, ...] = field(repr=False)  # current first
    mapping: MappingSettings
    watermark: dt.datetime | None = None  # end of the last good reconcile pass (UTC)
    status_error: str | None = None
    secret_grace_until: dt.datetime | None = None  # the last earlier secret works until then

    @property
    def accepts_notifications(self) -> bool:
        return self.status.books_orders


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_webhook_key() -> str:
    return secrets.token_urlsafe(18)


def webhook_url(public_base_url: str, webhook_key: str) -> str:
    return f"{public_base_url.rstrip('/')}/webhooks/mijnwebwinkel/{webhook_key}"


class ShopStore:
    def __init__(self, engine: Engine, vault: Vault) -> None:
        self.engine, self.vault = engine, vault

    # --- reading ----------------------------------------------------------------------

    def _shop(self, row: Any, now: dt.datetime | None = None) -> Shop:
        retired = _valid_retired(row.retired_webhook_secrets, now or utcnow())
        secrets_ = [self.vault.decrypt(row.webhook_secret)]
        secrets_ += [self.vault.decrypt(entry["secret"]) for entry in retired]
        grace_until = max((_until(entry) for entry in retired), default=None)
        return Shop(
            id=row.id,
            name=row.name,
            status=ShopStatus(row.status),
            webhook_key=row.webhook_key,
            credentials=Credentials.from_json(self.vault.decrypt_json(row.credentials)),
            webhook_secrets=tuple(secrets_),
            mapping=MappingSettings.from_json(row.mapping or {}),
            watermark=aware(row.watermark),
            status_error=row.status_error,
            secret_grace_until=grace_until,
        )

    def get(self, shop_id: int) -> Shop | None:
        with single_statement(self.engine) as conn:
            row = conn.execute(select(shops).where(shops.c.id == shop_id)).first()
        return self._shop(row) if row else None

    def get_by_webhook_key(self, webhook_key: str) -> Shop | None:
        with single_statement(self.engine) as conn:
            row = conn.execute(select(shops).where(shops.c.webhook_key == webhook_key)).first()
        return self._shop(row) if row else None

    def all(self, statuses: Iterable[ShopStatus] | None = None) -> list[Shop]:
        query = select(shops).order_by(shops.c.id)
        if statuses is not None:
            query = query.where(shops.c.status.in_([str(s) for s in statuses]))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [self._shop(row) for row in rows]

    def booking(self) -> list[Shop]:
        """The shops whose orders are booked (active, or briefly refused by Mijnwebwinkel)."""
        return self.all([s for s in ShopStatus if s.books_orders])

    # --- writing ----------------------------------------------------------------------

    def register(
        self,
        *,
        name: str,
        credentials: Credentials,
        mapping: MappingSettings | None = None,
        status: ShopStatus = ShopStatus.DRAFT,
        owner_id: int | None = None,
    ) -> tuple[int, str]:
        """Store a new shop (owned by ``owner_id``, when given); returns its id and its
        webhook secret."""
        secret = new_webhook_secret()
        with transaction(self.engine) as conn:
            result = conn.execute(
                shops.insert().values(
                    name=name,
                    webhook_key=new_webhook_key(),
                    credentials=self.vault.encrypt_json(credentials.to_json()),
                    webhook_secret=self.vault.encrypt(secret),
                    mapping=(mapping or MappingSettings()).to_json(),
                    status=str(status),
                )
            )
            shop_id = new_id(result)
            if owner_id is not None:
                conn.execute(shop_owners.insert().values(user_id=owner_id, shop_id=shop_id))
            return shop_id, secret

    def _update(self, conn: Connection, shop_id: int, **values: Any) -> None:
        conn.execute(
            update(shops).where(shops.c.id == shop_id).values(**values, updated_at=utcnow())
        )

    def update_connection(self, shop_id: int, *, name: str, credentials: Credentials) -> None:
        """New name and (checked) credentials. A shop refused by Mijnwebwinkel becomes
        active again: a person fixed what the reconciler found."""
        with transaction(self.engine) as conn:
            self._update(
                conn, shop_id, name=name, credentials=self.vault.encrypt_json(credentials.to_json())
            )
            conn.execute(
                update(shops)
                .where(
                    shops.c.id == shop_id,
                    shops.c.status == str(ShopStatus.AUTH_FAILED),
                )
                .values(status=str(ShopStatus.ACTIVE), status_error=None)
            )

    def save_mapping(
        self, shop_id: int, mapping: MappingSettings, *, install: bool = False
    ) -> bool:
        """Save the settings; ``install`` also activates a draft or disabled shop.
        Returns whether the shop was activated now."""
        with transaction(self.engine) as conn:
            self._update(conn, shop_id, mapping=mapping.to_json())
            if not install:
                return False
            result = conn.execute(
                update(shops)
                .where(
                    shops.c.id == shop_id,
                    shops.c.status.in_([str(ShopStatus.DRAFT), str(ShopStatus.DISABLED)]),
                )
                .values(status=str(ShopStatus.ACTIVE), status_error=None)
            )
            return bool(result.rowcount)

    def set_status(self, shop_id: int, status: ShopStatus) -> None:
        with transaction(self.engine) as conn:
            self._update(conn, shop_id, status=str(status), status_error=None)

    def mark_auth_failed(self, shop_id: int, explanation: str) -> None:
        """Mijnwebwinkel refused the shop's token: a person must act (the pages say so)."""
        with transaction(self.engine) as conn:
            self._update(
                conn, shop_id, status=str(ShopStatus.AUTH_FAILED), status_error=explanation
            )

    def advance_watermark(self, conn: Connection, shop: Shop, end: dt.datetime) -> None:
        """After a good pass (in the caller's transaction): the next pass starts from
        ``end``, and a token that works again makes the shop active again."""
        if shop.watermark is not None and end <= shop.watermark:
            return
        values: dict[str, Any] = {"watermark": end}
        if shop.status == ShopStatus.AUTH_FAILED:
            values.update(status=str(ShopStatus.ACTIVE), status_error=None)
        self._update(conn, shop.id, **values)

    def rotate_webhook_secret(self, shop_id: int) -> str:
        """New current secret; the old one, and every earlier one still inside its grace
        period, stays valid until its own ``SECRET_GRACE`` ends."""
        secret = new_webhook_secret()
        now = utcnow()
        with transaction(self.engine) as conn:
            row = conn.execute(
                select(shops.c.webhook_secret, shops.c.retired_webhook_secrets)
                .where(shops.c.id == shop_id)
                .with_for_update()
            ).first()
            if row is None:
                raise LookupError(f"no shop {shop_id}")
            retired = [{"secret": row.webhook_secret, "until": (now + SECRET_GRACE).isoformat()}]
            retired += _valid_retired(row.retired_webhook_secrets, now)
            self._update(
                conn,
                shop_id,
                webhook_secret=self.vault.encrypt(secret),
                retired_webhook_secrets=retired,
            )
        return secret

    def reencrypt_all(self) -> tuple[int, int]:
        """Every stored secret (credentials, webhook secrets) under the newest key.
        Returns (secrets re-encrypted, secrets already current); a second run re-encrypts
        nothing. One transaction per shop."""
        changed = current = 0
        with self.engine.connect() as conn:
            ids = [row.id for row in conn.execute(select(shops.c.id).order_by(shops.c.id))]
        for shop_id in ids:
            with transaction(self.engine) as conn:
                row = conn.execute(
                    select(shops).where(shops.c.id == shop_id).with_for_update()
                ).first()
                if row is None:
                    continue
                values: dict[str, Any] = {}
                for column in ("credentials", "webhook_secret"):
                    token = getattr(row, column)
                    if self.vault.is_current(token):
                        current += 1
                    else:
                        values[column] = self.vault.rotate(token)
                        changed += 1
                retired = list(row.retired_webhook_secrets or [])
                stale = [e for e in retired if not self.vault.is_current(e["secret"])]
                if stale:
                    values["retired_webhook_secrets"] = [
                        {**e, "secret": self.vault.rotate(e["secret"])} for e in retired
                    ]
                changed += len(stale)
                current += len(retired) - len(stale)
                if values:
                    conn.execute(update(shops).where(shops.c.id == shop_id).values(**values))
        return changed, current


def _until(entry: dict[str, str]) -> dt.datetime:
    return dt.datetime.fromisoformat(entry["until"])


def _valid_retired(retired: list[dict[str, str]] | None, now: dt.datetime) -> list[dict[str, str]]:
    """The retired secrets whose grace period has not ended, newest first."""
    return [entry for entry in retired or [] if _until(entry) > now]
