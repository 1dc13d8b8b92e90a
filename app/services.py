"""Everything a process needs, built once from ``Settings``: database, Redis, queue,
encryption, and factories for the two external clients.

Tests build ``Services`` with the simulators' URLs (or their own factories); processes
call ``build_services(Settings.from_env())`` once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redis import Redis
from rq import Queue
from sqlalchemy import Engine

from app.clients import BookkeepingApi, ShopApi
from app.config import DEFAULT_LEASE_SECONDS, Settings
from app.crypto import Vault
from app.fastpaths import BookedCache, RelationCache, SessionStore
from app.intake.shop_cache import WebhookShopCache
from app.metrics import upstream_recorder
from app.queue import get_queue
from app.store import Store
from app.store.db import engine_for
from app.store.shops import Shop

ShopApiFactory = Callable[[Shop], ShopApi]
BookkeepingFactory = Callable[[Shop], BookkeepingApi]


@dataclass
class Services:
    settings: Settings
    engine: Engine
    redis: Redis
    vault: Vault
    queue: Queue
    shop_api_factory: ShopApiFactory
    bookkeeping_factory: BookkeepingFactory
    lease_seconds: int = DEFAULT_LEASE_SECONDS
    store: Store = field(init=False)
    booked: BookedCache = field(init=False)
    relations: RelationCache = field(init=False)
    webhook_shops: WebhookShopCache = field(init=False)
    _bookkeepers: dict[tuple[Any, ...], BookkeepingApi] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.store = Store(self.engine, self.vault)
        self.booked = BookedCache(self.redis, self.store.bookings.booked_numbers)
        self.relations = RelationCache(self.redis)
        self.webhook_shops = WebhookShopCache(self.store.shops)

    def load_shop(self, shop_id: int) -> Shop | None:
        return self.store.shops.get(shop_id)

    def shop_api(self, shop: Shop) -> ShopApi:
        return self.shop_api_factory(shop)

    def bookkeeping(self, shop: Shop) -> BookkeepingApi:
        """One client (one e-Boekhouden session) per shop and credentials per process."""
        creds = shop.credentials
        key = (shop.id, creds.eb_username, hash((creds.eb_code1, creds.eb_code2)))
        with self._lock:
            client = self._bookkeepers.get(key)
            if client is None:
                client = self._bookkeepers[key] = self.bookkeeping_factory(shop)
            return client

    def close(self) -> None:
        with self._lock:
            for client in self._bookkeepers.values():
                client.close()
            self._bookkeepers.clear()


def real_shop_api_factory(settings: Settings) -> ShopApiFactory:
    from app.clients.mijnwebwinkel import MijnwebwinkelClient

    def make(shop: Shop) -> ShopApi:
        return MijnwebwinkelClient.from_settings(
            settings, shop.credentials.mww_token, metrics=upstream_recorder("mijnwebwinkel"))

    return make


def real_bookkeeping_factory(settings: Settings, redis: Redis | None = None) -> BookkeepingFactory:
    from app.clients.eboekhouden import EBoekhoudenClient

    def make(shop: Shop) -> BookkeepingApi:
        creds = shop.credentials
        return EBoekhoudenClient(
            creds.eb_username, creds.eb_code1, creds.eb_code2,
            url=settings.eboekhouden_soap_url, source=settings.eboekhouden_source,
            timeout=settings.http_timeout, operation_timeout=settings.soap_operation_timeout,
            metrics=upstream_recorder("eboekhouden"),
            session_store=SessionStore(redis, shop.id, creds.eb_username) if redis else None,
        )

    return make


def build_services(settings: Settings, redis: Redis | None = None) -> Services:
    redis = redis or Redis.from_url(settings.redis_url)
    return Services(
        settings=settings,
        engine=engine_for(settings.database_url),
        redis=redis,
        vault=Vault(settings.encryption_key),
        queue=get_queue(redis, settings.queue_name),
        shop_api_factory=real_shop_api_factory(settings),
        bookkeeping_factory=real_bookkeeping_factory(settings, redis),
        lease_seconds=settings.booking_lease_seconds,
    )
