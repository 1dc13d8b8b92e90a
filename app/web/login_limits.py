"""Limits on login attempts, checked before any password is hashed.

Two counters: attempts per client address (fixed windows of ``LOGIN_RATE_WINDOW``) and
failures per account. Past the address limit the answer is 429 at once, without scrypt;
a flood from one address never touches another address's logins. Per account, after
``LOGIN_FREE_FAILURES`` failures each further try must wait 2, 4, 8 … seconds (at most
``LOGIN_MAX_DELAY``): an attacker gets about one guess a minute, the owner waits at most a
minute after a correct password, never fifteen.

There is no overall counter: one that refuses everyone once busy lets a single address
lock every user out. What a flood from many addresses may cost is bounded instead by
``HashSlots``: at most ``LOGIN_HASH_CONCURRENCY`` password checks run at once per web
process; a login that gets no turn within ``LOGIN_HASH_WAIT_SECONDS`` is answered 503.

The counters live in Redis, shared by every web process. When Redis does not answer, or
refuses writes because it is full (``maxmemory`` with ``noeviction``, as on Heroku), the
same limits are counted in this process (``MemoryCounters``): they fail closed, never
open. Keys hold a digest of the address typed, never the address itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import threading
import time
from collections.abc import Callable, Iterator

from redis import Redis
from redis.exceptions import RedisError

from app.config import (
    LOGIN_FAILURE_WINDOW,
    LOGIN_FALLBACK_MAX_KEYS,
    LOGIN_FREE_FAILURES,
    LOGIN_HASH_CONCURRENCY,
    LOGIN_HASH_WAIT_SECONDS,
    LOGIN_MAX_DELAY,
    LOGIN_RATE_PER_ADDRESS,
    LOGIN_RATE_WINDOW,
)

BUSY = "Te veel inlogpogingen vanaf dit adres. Probeer het over een minuut opnieuw."
CROWDED = "Er wordt op dit moment erg veel ingelogd. Probeer het over een paar seconden opnieuw."


def wait_message(seconds: int) -> str:
    return (
        f"Te veel mislukte pogingen voor dit account. Wacht {seconds} seconden en "
        "probeer het dan opnieuw."
    )


def now() -> float:
    return time.time()


class MemoryCounters:
    """The limits' counters in this process, for when Redis cannot count: expiring keys
    in a dict, at most ``max_keys`` (expired ones go first, then the oldest)."""

    def __init__(self, max_keys: int = LOGIN_FALLBACK_MAX_KEYS) -> None:
        self.max_keys = max_keys
        self._values: dict[str, tuple[int, float]] = {}  # key → (value, expires at)
        self._lock = threading.Lock()

    def _store(self, key: str, value: int, expires: float, at: float) -> None:
        if key not in self._values and len(self._values) >= self.max_keys:
            for old in [k for k, (_, until) in self._values.items() if until <= at]:
                del self._values[old]
            while len(self._values) >= self.max_keys:
                del self._values[next(iter(self._values))]
        self._values[key] = (value, expires)

    def incr(self, key: str, ttl: float, at: float) -> int:
        """Add one; a new key lives ``ttl`` seconds, an existing one keeps its expiry."""
        with self._lock:
            hit = self._values.get(key)
            if hit is None or hit[1] <= at:
                self._store(key, 1, at + ttl, at)
                return 1
            self._values[key] = (hit[0] + 1, at + ttl)  # as Redis: EXPIRE after INCR
            return hit[0] + 1

    def set(self, key: str, ttl: float, at: float) -> None:
        with self._lock:
            self._store(key, 1, at + ttl, at)

    def left(self, key: str, at: float) -> float:
        """Seconds until ``key`` expires (0 when it does not exist)."""
        with self._lock:
            hit = self._values.get(key)
        return max(0.0, hit[1] - at) if hit else 0.0

    def delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._values.pop(key, None)


class HashSlots:
    """At most ``LOGIN_HASH_CONCURRENCY`` password checks at once in this process."""

    def __init__(
        self, slots: int = LOGIN_HASH_CONCURRENCY, wait: float = LOGIN_HASH_WAIT_SECONDS
    ) -> None:
        self.wait = wait
        self._slots = threading.BoundedSemaphore(slots)

    @contextlib.contextmanager
    def turn(self) -> Iterator[bool]:
        """Yields whether a turn came within ``wait`` seconds (False: answer 503)."""
        got = self._slots.acquire(timeout=self.wait)
        try:
            yield got
        finally:
            if got:
                self._slots.release()


class LoginLimits:
    def __init__(
        self,
        redis: Redis,
        memory: MemoryCounters | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.redis, self.clock = redis, clock or (lambda: now())
        self.memory = memory if memory is not None else MemoryCounters()

    def refusal(self, address: str, email: str) -> str | None:
        """Count this attempt; the Dutch reason to refuse it (429), or None to go on."""
        at = self.clock()
        per_address = f"login-rate:address:{_digest(address)}:{int(at // LOGIN_RATE_WINDOW)}"
        try:
            pipe = self.redis.pipeline()
            pipe.incr(per_address)
            pipe.expire(per_address, LOGIN_RATE_WINDOW)
            pipe.pttl(_wait_key(email))
            address_count, _, wait_ms = pipe.execute()
            wait = max(0.0, (wait_ms or 0) / 1000)
        except RedisError:  # down, or full: count here instead
            address_count = self.memory.incr(per_address, LOGIN_RATE_WINDOW, at)
            wait = self.memory.left(_wait_key(email), at)
        if address_count > LOGIN_RATE_PER_ADDRESS:
            return BUSY
        if wait > 0:
            return wait_message(max(1, math.ceil(wait)))
        return None

    def failed(self, email: str) -> None:
        failures_key, wait_key = _failures_key(email), _wait_key(email)
        try:
            pipe = self.redis.pipeline()
            pipe.incr(failures_key)
            pipe.expire(failures_key, LOGIN_FAILURE_WINDOW)
            failures = pipe.execute()[0]
            if failures >= LOGIN_FREE_FAILURES:
                self.redis.set(wait_key, 1, ex=_delay(failures))
        except RedisError:
            at = self.clock()
            failures = self.memory.incr(failures_key, LOGIN_FAILURE_WINDOW, at)
            if failures >= LOGIN_FREE_FAILURES:
                self.memory.set(wait_key, _delay(failures), at)

    def succeeded(self, email: str) -> None:
        keys = (_failures_key(email), _wait_key(email))
        self.memory.delete(*keys)
        with contextlib.suppress(RedisError):
            self.redis.delete(*keys)


def _delay(failures: int) -> int:
    return int(min(2 ** (failures - LOGIN_FREE_FAILURES + 1), LOGIN_MAX_DELAY))


def _digest(text: str) -> str:
    """Bounded keys whatever was typed (and no addresses in Redis)."""
    return hashlib.sha256(text.strip().lower().encode()).hexdigest()[:32]


def _failures_key(email: str) -> str:
    return f"login-failures:{_digest(email)}"


def _wait_key(email: str) -> str:
    return f"login-wait:{_digest(email)}"
