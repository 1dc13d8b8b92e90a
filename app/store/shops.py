"""Shops: registering, reading (decrypted), settings, status and webhook secrets.

A ``Shop`` is the one typed, decrypted view of a ``shops`` row that the pipeline, the
webhook, the reconciler and the pages work with. Secrets are decrypted only here and
never logged. Every function owns its transaction.

One shop whose row cannot be read (its secrets were stored under another
``ENCRYPTION_KEY``, or its stored settings are damaged) never takes the others down: the
listings (``all``, ``booking``, ``scan``) skip it with a logged error and report it as an
``UnreadableShop``; reading that one shop raises ``UnreadableShopError``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from app.core.mapping_settings import MappingSettings
from app.crypto import Vault
from app.errors import ConfigError
from app.states import ShopStatus
from app.store import webhook_secrets
from app.store.credentials import MIN_EB_USERNAME as MIN_EB_USERNAME
from app.store.credentials import Credentials as Credentials
from app.store.db import shop_owners, shops
from app.store.engine import aware, new_id, single_statement, transaction, utcnow
from app.store.shop_lifecycle import ShopLifecycle
from app.store.unreadable import DATA, SECRETS
from app.store.unreadable import UnreadableShop as UnreadableShop
from app.store.unreadable import UnreadableShopError as UnreadableShopError
from app.store.webhook_secrets import SECRET_GRACE as SECRET_GRACE
from app.store.webhook_secrets import new_webhook_key
from app.store.webhook_secrets import new_webhook_secret as new_webhook_secret
from app.store.webhook_secrets import webhook_url as webhook_url

log = logging.getLogger(__name__)


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
    # "Boek bestellingen vanaf" (UTC); None: no start date (app/core/start_date.py).
    book_from: dt.datetime | None = None
    status_system: str | None = None  # auth_failed: mijnwebwinkel | eboekhouden
    created_at: dt.datetime | None = None  # the moment of connection
    updated_at: dt.datetime | None = None

    @property
    def accepts_notifications(self) -> bool:
        return self.status.accepts_notifications


class ShopStore(ShopLifecycle):
    """Shops read and written; status changes (pause, remove, refused credentials) and
    the start date are ShopLifecycle's (app/store/shop_lifecycle.py)."""

    def __init__(self, engine: Engine, vault: Vault) -> None:
        self.engine, self.vault = engine, vault

    # --- reading ----------------------------------------------------------------------

    def _shop(self, row: Any, now: dt.datetime | None = None) -> Shop:
        try:
            secrets_, grace_until = webhook_secrets.readable_secrets(
                self.vault, row, now or utcnow()
            )
            return Shop(
                id=row.id,
                name=row.name,
                status=ShopStatus(row.status),
                webhook_key=row.webhook_key,
                credentials=Credentials.from_json(self.vault.decrypt_json(row.credentials)),
                webhook_secrets=secrets_,
                mapping=MappingSettings.from_json(row.mapping or {}),
                watermark=aware(row.watermark),
                status_error=row.status_error,
                secret_grace_until=grace_until,
                book_from=aware(row.book_from),
                status_system=row.status_system,
                created_at=aware(row.created_at),
                updated_at=aware(row.updated_at),
            )
        except ConfigError:
            problem = SECRETS  # Vault: not readable with any key of ENCRYPTION_KEY
        except (ValueError, TypeError, KeyError, AttributeError):
            problem = DATA  # damaged JSON, an unknown status or mode, a bad date
        raise UnreadableShopError(
            UnreadableShop(row.id, row.name, str(row.status), row.webhook_key, problem)
        )

    def get(self, shop_id: int) -> Shop | None:
        """The shop, or None; ``UnreadableShopError`` when its row cannot be read."""
        with single_statement(self.engine) as conn:
            row = conn.execute(select(shops).where(shops.c.id == shop_id)).first()
        return self._shop(row) if row else None

    def get_by_webhook_key(self, webhook_key: str) -> Shop | None:
        with single_statement(self.engine) as conn:
            row = conn.execute(select(shops).where(shops.c.webhook_key == webhook_key)).first()
        return self._shop(row) if row else None

    def scan(
        self, statuses: Iterable[ShopStatus] | None = None, *, include_removed: bool = False
    ) -> tuple[list[Shop], list[UnreadableShop]]:
        """Every shop (of ``statuses``; removed ones only when asked) that can be read, and
        those that cannot."""
        query = select(shops).order_by(shops.c.id)
        if statuses is not None:
            query = query.where(shops.c.status.in_([str(s) for s in statuses]))
        elif not include_removed:
            query = query.where(shops.c.status != str(ShopStatus.REMOVED))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        found, unreadable = [], []
        now = utcnow()
        for row in rows:
            try:
                found.append(self._shop(row, now))
            except UnreadableShopError as err:
                log.error(
                    "shop skipped: %s", err, extra={"shop_id": row.id, "problem": err.shop.problem}
                )
                unreadable.append(err.shop)
        return found, unreadable

    def all(
        self, statuses: Iterable[ShopStatus] | None = None, *, include_removed: bool = False
    ) -> list[Shop]:
        """The shops that can be read (the others are skipped, each with a logged error)."""
        return self.scan(statuses, include_removed=include_removed)[0]

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
        book_from: dt.datetime | None = None,
    ) -> tuple[int, str]:
        """Store a new shop (owned by ``owner_id``, when given, starting its bookings at
        ``book_from``: the pages and ``shops add`` pass the moment of connection);
        returns its id and its webhook secret."""
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
                    book_from=book_from,
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

    def update_connection(self, shop_id: int, *, name: str, credentials: Credentials) -> bool:
        """New name and (checked) credentials. A shop whose credentials were refused
        becomes active again: a person fixed what was refused. True if it did now."""
        with transaction(self.engine) as conn:
            self._update(
                conn, shop_id, name=name, credentials=self.vault.encrypt_json(credentials.to_json())
            )
            result = conn.execute(
                update(shops)
                .where(
                    shops.c.id == shop_id,
                    shops.c.status == str(ShopStatus.AUTH_FAILED),
                )
                .values(status=str(ShopStatus.ACTIVE), status_error=None, status_system=None)
            )
            return bool(result.rowcount)

    def save_mapping(
        self,
        shop_id: int,
        mapping: MappingSettings,
        *,
        install: bool = False,
        book_from: dt.datetime | None = None,
    ) -> bool:
        """Save the settings (and the start date, when given); ``install`` also activates
        a draft or disabled shop. Returns whether the shop was activated now."""
        extra = {"book_from": book_from} if book_from is not None else {}
        with transaction(self.engine) as conn:
            self._update(conn, shop_id, mapping=mapping.to_json(), **extra)
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

    def rotate_webhook_secret(self, shop_id: int) -> str:
        """A new current secret; earlier ones stay valid in their grace, at most
        ``MAX_KEPT_WEBHOOK_SECRETS`` of them (app/store/webhook_secrets.py)."""
        return webhook_secrets.rotate(self.engine, self.vault, shop_id)

    def revoke_earlier_webhook_secrets(self, shop_id: int) -> int:
        """Only the current secret works from now on; returns how many stopped."""
        return webhook_secrets.revoke_earlier(self.engine, shop_id)

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
