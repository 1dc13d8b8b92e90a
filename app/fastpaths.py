"""Redis fast paths: known relations (and the lock under which a new one is made), the
shared e-Boekhouden session (and the REST ids of an administration), and the GetMutaties
calls per administration this month. Booked orders per shop: app/booked.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from zoneinfo import ZoneInfo

from redis import Redis
from redis.exceptions import RedisError

from app.config import (
    EBOEKHOUDEN_SESSION_TTL,
    GET_MUTATIES_COUNT_TTL,
    GET_MUTATIES_MONTHLY_LIMIT,
    GET_MUTATIES_RESERVE,
    RELATION_LOCK_SECONDS,
    RELATION_LOCK_WAIT_SECONDS,
)
from app.core.mutations import Relation
from app.crypto import Vault
from app.errors import ConfigError

log = logging.getLogger(__name__)


class RelationCache:
    """Relation codes known to exist in a shop's e-Boekhouden administration, by the code
    an order's relation wants.

    A business relation (VAT number or company name) is remembered with the details it was
    last compared with (app/booking/pipeline.py): an order carrying the same needs no look-up; one
    carrying other details does. Stored as ``code`` or ``code<TAB>details``.
    """

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def get(self, shop_id: int, relation: Relation) -> str | None:
        value = self.redis.hget(f"mww:relations:{shop_id}", relation.code)
        if value is None:
            return None
        code, _, seen = (value.decode() if isinstance(value, bytes) else value).partition("\t")
        return code if seen == _details(relation) else None

    def put(self, shop_id: int, relation: Relation, actual_code: str) -> None:
        details = _details(relation)
        value = f"{actual_code}\t{details}" if details else actual_code
        self.redis.hset(f"mww:relations:{shop_id}", relation.code, value)

    def forget(self, shop_id: int, wanted_code: str) -> None:
        self.redis.hdel(f"mww:relations:{shop_id}", wanted_code)


@contextlib.contextmanager
def relation_lock(
    redis: Redis,
    administration_key: str,
    code: str,
    *,
    wait: float = RELATION_LOCK_WAIT_SECONDS,
) -> Iterator[bool]:
    """One worker at a time makes the relation ``code`` in one administration (shops on
    one administration share their relations). Yields whether the lock is held: after
    ``wait`` seconds, or with Redis away, the caller goes on without it (e-Boekhouden's
    "already exists" is recognised anyway; the lock only makes it rare)."""
    name = f"mww:relation-lock:{administration_key}:{code.strip().casefold()}"
    lock = redis.lock(name, timeout=RELATION_LOCK_SECONDS, blocking_timeout=wait)
    try:
        held = bool(lock.acquire(blocking=True))
    except RedisError as err:
        log.warning("relation lock unavailable: %s", type(err).__name__)
        held = False
    try:
        yield held
    finally:
        if held:
            with contextlib.suppress(RedisError):  # expired meanwhile: it is gone anyway
                lock.release()


def _details(relation: Relation) -> str:
    """What a business relation is compared on ("" for a consumer: nothing to compare)."""
    if not (relation.vat_number or relation.company):
        return ""
    return f"{relation.vat_number}|{relation.company}"


class SessionStore:
    """One e-Boekhouden session id per shop, shared by all worker processes.

    The real session lifetime is undocumented (docs/assumptions-eboekhouden.md); entries
    live ``TTL`` seconds and a session error makes the client reopen once anyway. Only a
    cache: with Redis away the client opens a session of its own (the settings page keeps
    working).

    A session id is a credential while it lives (it books into the administration), so it
    is stored encrypted with ``ENCRYPTION_KEY`` (the ``Vault``), like the shop's own
    secrets: a Redis dump or a shared Redis add-on does not hand it out. One that cannot be
    decrypted (the key changed) is a miss: the client opens a new session.
    """

    TTL = EBOEKHOUDEN_SESSION_TTL

    def __init__(self, redis: Redis, shop_id: int, username: str, vault: Vault) -> None:
        self.redis, self.vault = redis, vault
        self.key = f"mww:eb-session:{shop_id}:{username}"

    def get(self) -> str | None:
        try:
            value = self.redis.get(self.key)
        except RedisError as err:
            log.info("shared e-Boekhouden session unavailable: %s", err)
            return None
        if value is None:
            return None
        try:
            return self.vault.decrypt(value.decode() if isinstance(value, bytes) else value)
        except ConfigError:  # stored under another key: as good as none
            return None

    def put(self, session_id: str) -> None:
        with contextlib.suppress(RedisError):
            self.redis.set(self.key, self.vault.encrypt(session_id), ex=self.TTL)

    def discard(self, session_id: str) -> None:
        # Only if it is still the one we know went stale; a newer one stays.
        if self.get() == session_id:
            with contextlib.suppress(RedisError):
                self.redis.delete(self.key)


class RestIds:
    """Ledger and relation ids of one shop's e-Boekhouden administration (REST), shared by
    all worker processes, so a forked job does not look every code up again. Ids are stable
    until someone deletes a ledger or relation by hand; the client forgets an id when
    e-Boekhouden says it is unknown."""

    TTL = 24 * 3600

    def __init__(self, redis: Redis, shop_id: int, token_key: str) -> None:
        self.redis = redis
        self.key = f"mww:eb-rest-ids:{shop_id}:{token_key}"

    def get(self, kind: str, key: str) -> int | None:
        try:
            value = self.redis.hget(self.key, f"{kind}:{key}")
        except RedisError as err:  # then the client looks the id up again
            log.info("shared e-Boekhouden ids unavailable: %s", err)
            return None
        return int(value) if value is not None else None

    def put(self, kind: str, key: str, value: int) -> None:
        with contextlib.suppress(RedisError):
            pipe = self.redis.pipeline()
            pipe.hset(self.key, f"{kind}:{key}", str(value))
            pipe.expire(self.key, self.TTL)
            pipe.execute()

    def forget(self, kind: str, key: str | None = None) -> None:
        with contextlib.suppress(RedisError):
            if key is not None:
                self.redis.hdel(self.key, f"{kind}:{key}")
                return
            fields = [
                f
                for f in self.redis.hkeys(self.key)
                if (f.decode() if isinstance(f, bytes) else f).startswith(f"{kind}:")
            ]
            if fields:
                self.redis.hdel(self.key, *fields)


class GetMutatiesBudget:
    """GetMutaties calls per e-Boekhouden administration this calendar month: SOAP allows
    5,000 a month (NOTES.md §5), shared by every shop on the administration (keyed by
    ``Credentials.administration_key``). Which clock e-Boekhouden's month follows is not
    documented: the Dutch calendar month is assumed (docs/assumptions-eboekhouden.md).

    A count, not a lock: the recovery look-ups always go (a booking must not wait for a
    number), the period report reads the books only while enough is left. With Redis away
    a call is not counted (logged); the month's count is then low, never high."""

    LIMIT = GET_MUTATIES_MONTHLY_LIMIT
    LOW = 2 * GET_MUTATIES_RESERVE  # left at most this many: "low" (a warning, once)
    TZ = ZoneInfo("Europe/Amsterdam")

    def __init__(self, redis: Redis, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.redis = redis
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def _month(self) -> str:
        return self._clock().astimezone(self.TZ).strftime("%Y-%m")

    def _key(self, administration: str) -> str:
        return f"mww:getmutaties:{self._month()}:{administration}"

    def increment(self, administration: str, calls: int = 1) -> int | None:
        """Count ``calls``; the month's count so far (None when Redis did not answer)."""
        if calls <= 0:
            return self.used(administration)
        key = self._key(administration)
        try:
            pipe = self.redis.pipeline()
            pipe.incrby(key, calls)
            pipe.expire(key, GET_MUTATIES_COUNT_TTL)
            pipe.sadd(seen := f"mww:getmutaties-seen:{self._month()}", administration)
            pipe.expire(seen, GET_MUTATIES_COUNT_TTL)
            used = int(pipe.execute()[0])
        except RedisError as err:
            log.warning("GetMutaties calls not counted (%s): %s", administration, err)
            return None
        if self.LIMIT - used <= self.LOW < self.LIMIT - used + calls:  # this call crossed
            left = max(0, self.LIMIT - used)
            log.warning(
                "GetMutaties budget low: %d calls left this month (%s)", left, administration
            )
        return used

    def month_used(self) -> dict[str, int]:
        """This month's calls of every administration that made one (RedisError raises)."""
        seen = self.redis.smembers(f"mww:getmutaties-seen:{self._month()}")
        admins = sorted(a.decode() if isinstance(a, bytes) else str(a) for a in seen)
        counts = self.redis.mget([self._key(a) for a in admins]) if admins else []
        return {a: int(c or 0) for a, c in zip(admins, counts, strict=True)}

    def used(self, administration: str) -> int:
        value = self.redis.get(self._key(administration))
        return int(value or 0)

    def remaining(self, administration: str) -> int:
        """Calls left this month (never below 0)."""
        return max(0, self.LIMIT - self.used(administration))
