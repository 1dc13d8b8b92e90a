"""Everything a process needs, built once from ``Settings``: database, Redis, queue,
encryption, and factories for the two external clients.

Tests build ``Services`` with the simulators' URLs (or their own factories); processes
call ``build_services(Settings.from_env())`` once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry
from rq import Queue
from sqlalchemy import Engine

from app.booked import BookedCache
from app.clients import BookkeepingApi, ShopApi
from app.config import DEFAULT_LEASE_SECONDS, REDIS_SOCKET_TIMEOUT, Settings
from app.core.mutations import (
    Administration,
    BookedMutation,
    ExistingRelation,
    LedgerAccount,
    Mutation,
    MutationListing,
    Relation,
)
from app.crypto import Vault
from app.errors import AdministrationBusyError
from app.fastpaths import GetMutatiesBudget, RelationCache, RestIds, SessionStore
from app.jobs.queue import get_queue
from app.limits import AdministrationSlots
from app.metrics import upstream_recorder
from app.states import EbApi
from app.store import Store
from app.store.engine import engine_for
from app.store.shops import Shop
from app.store.webhook_shops import WebhookShopCache

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
    get_mutaties: GetMutatiesBudget = field(init=False)  # SOAP's 5,000 calls a month
    slots: AdministrationSlots = field(init=False)  # e-Boekhouden calls at once (app/limits.py)
    _bookkeepers: dict[tuple[Any, ...], BookkeepingApi] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.store = Store(self.engine, self.vault)
        self.booked = BookedCache(self.redis, self.store.bookings.booked_numbers)
        self.relations = RelationCache(self.redis)
        self.webhook_shops = WebhookShopCache(self.store.shops)
        self.get_mutaties = GetMutatiesBudget(self.redis)
        self.slots = AdministrationSlots(
            self.redis,
            self.settings.eboekhouden_max_concurrent,
            lease_seconds=self.settings.http_timeout + 2 * self.settings.soap_operation_timeout,
        )

    def load_shop(self, shop_id: int) -> Shop | None:
        return self.store.shops.get(shop_id)

    def count_get_mutaties(self, shop: Shop, calls: int = 1) -> None:
        """GetMutaties calls made for ``shop`` count against its administration's month
        (SOAP only: the REST API documents no such cap)."""
        if shop.credentials.eb_api == EbApi.SOAP:
            self.get_mutaties.increment(shop.credentials.administration_key, calls)

    def shop_api(self, shop: Shop) -> ShopApi:
        return self.shop_api_factory(shop)

    def bookkeeping(self, shop: Shop) -> BookkeepingApi:
        """One client (one e-Boekhouden session) per shop and credentials per process,
        every call in a slot of the shop's administration (``SlottedBookkeeping``)."""
        creds = shop.credentials
        key = (
            shop.id,
            creds.eb_api,
            creds.eb_username,
            hash((creds.eb_code1, creds.eb_code2, creds.eb_api_token)),
        )
        with self._lock:
            client = self._bookkeepers.get(key)
            if client is None:
                client = self._bookkeepers[key] = SlottedBookkeeping(
                    self.bookkeeping_factory(shop), self.slots, creds.administration_key
                )
            return client

    def close(self) -> None:
        with self._lock:
            for client in self._bookkeepers.values():
                client.close()
            self._bookkeepers.clear()


class SlottedBookkeeping:
    """A ``BookkeepingApi`` whose every call holds one of its administration's call slots
    (app/limits.py: at most EBOEKHOUDEN_MAX_CONCURRENT at once, across all processes);
    none free in time: ``AdministrationBusyError`` and nothing is sent."""

    def __init__(self, inner: BookkeepingApi, slots: AdministrationSlots, admin: str) -> None:
        self.inner, self._slots, self._admin = inner, slots, admin

    def verify(self) -> None:
        with self._slots.hold(self._admin):
            self.inner.verify()

    def add_mutation(self, mutation: Mutation) -> int:
        with self._slots.hold(self._admin):
            return self.inner.add_mutation(mutation)

    def find_mutations(self, invoice_number: str) -> list[BookedMutation]:
        with self._slots.hold(self._admin):
            return self.inner.find_mutations(invoice_number)

    def list_mutations(
        self, start: dt.date, end: dt.date, *, progress: Callable[[int], None] | None = None
    ) -> MutationListing:
        with self._slots.hold(self._admin) as token:

            def page(read: int) -> None:  # a long read keeps its slot page by page
                self._slots.renew(self._admin, token)
                if progress is not None:
                    progress(read)

            return self.inner.list_mutations(start, end, progress=page)

    def find_relation(self, code: str) -> ExistingRelation | None:
        with self._slots.hold(self._admin):
            return self.inner.find_relation(code)

    def find_relations_by_email(self, email: str) -> list[ExistingRelation]:
        with self._slots.hold(self._admin):
            return self.inner.find_relations_by_email(email)

    def add_relation(self, relation: Relation) -> int:
        with self._slots.hold(self._admin):
            return self.inner.add_relation(relation)

    def update_relation(self, existing: ExistingRelation, changes: dict[str, str]) -> None:
        with self._slots.hold(self._admin):
            self.inner.update_relation(existing, changes)

    def ledger_accounts(self) -> list[LedgerAccount]:
        with self._slots.hold(self._admin):
            return self.inner.ledger_accounts()

    def administrations(self) -> list[Administration]:
        with self._slots.hold(self._admin):
            return self.inner.administrations()

    def close(self) -> None:
        """Ends the session (a call too): in a slot when one comes free, else anyway."""
        try:
            with self._slots.hold(self._admin):
                return self.inner.close()
        except AdministrationBusyError:
            self.inner.close()


def real_shop_api_factory(settings: Settings, timeout: float | None = None) -> ShopApiFactory:
    """``timeout``: the web's short one (one attempt, no retries) instead of the jobs'."""
    from app.clients.mijnwebwinkel import MijnwebwinkelClient

    short = {} if timeout is None else {"timeout": timeout, "max_retries": 0}

    def make(shop: Shop) -> ShopApi:
        return MijnwebwinkelClient.from_settings(
            settings,
            shop.credentials.mww_token,
            metrics=upstream_recorder("mijnwebwinkel"),
            **short,
        )

    return make


def real_bookkeeping_factory(
    settings: Settings,
    redis: Redis | None = None,
    timeout: float | None = None,
    vault: Vault | None = None,
) -> BookkeepingFactory:
    """The shop's adapter: REST when it has an API token, else SOAP. The pipeline does not
    know which one it talks to. ``timeout`` (the web's): short calls, no REST retries.
    With ``redis`` the session is shared between processes, encrypted with ``vault``
    (default: one from ``ENCRYPTION_KEY``)."""
    from app.clients.eboekhouden import EBoekhoudenClient
    from app.clients.eboekhouden_rest import EBoekhoudenRestClient

    if redis is not None and vault is None:
        vault = Vault(settings.encryption_key)

    def make(shop: Shop) -> BookkeepingApi:
        creds = shop.credentials
        if creds.eb_api == EbApi.REST:
            return EBoekhoudenRestClient(
                creds.eb_api_token,
                url=settings.eboekhouden_rest_url,
                source=settings.eboekhouden_source,
                timeout=timeout or settings.http_timeout,
                operation_timeout=timeout or settings.soap_operation_timeout,
                retries=0 if timeout else 2,
                metrics=upstream_recorder("eboekhouden"),
                session_store=(
                    SessionStore(redis, shop.id, _token_key(creds.eb_api_token), vault)
                    if redis and vault
                    else None
                ),
                id_cache=RestIds(redis, shop.id, _token_key(creds.eb_api_token)) if redis else None,
            )
        return EBoekhoudenClient(
            creds.eb_username,
            creds.eb_code1,
            creds.eb_code2,
            url=settings.eboekhouden_soap_url,
            source=settings.eboekhouden_source,
            timeout=timeout or settings.http_timeout,
            operation_timeout=timeout or settings.soap_operation_timeout,
            metrics=upstream_recorder("eboekhouden"),
            session_store=(
                SessionStore(redis, shop.id, creds.eb_username, vault) if redis and vault else None
            ),
        )

    return make


def _token_key(token: str) -> str:
    """A SessionStore key part for an API token: another token never finds its session."""
    return "rest-" + hashlib.sha256(token.encode()).hexdigest()[:16]


def redis_client(url: str) -> Redis:
    """Redis for the app's own calls (not RQ's worker loop): a Redis that does not answer
    within ``REDIS_SOCKET_TIMEOUT`` is down, and two quick retries (a pooled connection
    that a Redis restart closed) instead of redis-py's default ten with backoff, so an
    outage costs a page or the health check well under a second."""
    return Redis.from_url(
        url,
        socket_connect_timeout=REDIS_SOCKET_TIMEOUT,
        socket_timeout=REDIS_SOCKET_TIMEOUT,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 2),
    )


def build_services(
    settings: Settings,
    redis: Redis | None = None,
    *,
    upstream_timeout: float | None = None,
    pre_ping: bool = True,
) -> Services:
    """``upstream_timeout``: the web passes its short one (``web_upstream_timeout``); the
    workers and the clock keep the long ones of the booking jobs. ``pre_ping``: see
    ``app.store.engine.make_engine`` (the workers turn it off)."""
    redis = redis or redis_client(settings.redis_url)
    vault = Vault(settings.encryption_key)
    return Services(
        settings=settings,
        engine=engine_for(settings.database_url, pre_ping=pre_ping),
        redis=redis,
        vault=vault,
        queue=get_queue(redis, settings.queue_name),
        shop_api_factory=real_shop_api_factory(settings, upstream_timeout),
        bookkeeping_factory=real_bookkeeping_factory(settings, redis, upstream_timeout, vault),
        lease_seconds=settings.booking_lease_seconds,
    )
