"""Adaptive polling: each shop's next fast poll, kept in Redis (the rule: core/polling.py).

Two keys, one entry per booking shop: ``mww:poll:due`` (a sorted set, shop id → the epoch
second its next fast poll is due) and ``mww:poll:empty`` (a hash, shop id → empty polls
in a row). The clock (reconciler/schedule.py) asks one question per tick: which shops
are due now? It claims them in one script that also moves each claimed shop's due time
on by the base interval, so two clocks never poll a shop twice for one due time. A pass
that ends reports what it found (``after_pass``): a hit sets the shop back to the base
interval, an empty poll lengthens the wait. A notification and a person on the shop's
pages do what a hit does (``wake``). Every base interval the clock adds shops not in the
set yet (due at once) and drops the ones that no longer book (``sync``); the hourly pass,
enqueued for every shop, pushes each due time past it (``after_hourly``), so a quiet
shop costs the hourly pass only.

Losing Redis is safe: the next ``sync`` finds every shop missing and polls it at once,
and without counts every shop is back at the base interval. Redis errors outside the
clock are swallowed here: a wake or a count lost costs a poll at the wrong moment, never
a missed order (the hourly pass stays).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from typing import cast

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import RedisError

from app.config import Settings
from app.core.polling import Backoff
from app.states import RunMode

DUE_KEY = "mww:poll:due"
EMPTY_KEY = "mww:poll:empty"
CLAIM_LIMIT = 5_000  # shops claimed per tick at most; the rest on the next tick

# KEYS: 1 the due set. ARGV: 1 now, 2 the claimed shops' provisional next due time, 3 the
# limit. Returns the claimed shop ids; atomic, so one clock claims each due time.
_CLAIM_LUA = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, shop in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], shop) end
return due
"""


def backoff_of(settings: Settings) -> Backoff:
    base = settings.poll_interval_seconds
    return Backoff(base, max(base, settings.poll_idle_max_seconds), settings.poll_backoff_factor)


class PollSchedule:
    """The per-shop poll state of one Redis (see the module's docstring)."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis, self.backoff = redis, backoff_of(settings)

    def claim_due(self, now: float, limit: int = CLAIM_LIMIT) -> list[int]:
        """The shops whose fast poll is due at ``now``, claimed by this caller only, by id."""
        answer = self.redis.eval(
            _CLAIM_LUA, 1, DUE_KEY, repr(now), repr(now + self.backoff.base), str(limit)
        )
        return sorted(int(shop) for shop in cast(list[bytes], answer))

    def sync(self, shop_ids: Iterable[int], now: float) -> None:
        """New shops (and all after a lost Redis) due now; gone shops dropped."""
        wanted = {str(shop) for shop in shop_ids}
        members = cast(list[bytes | str], self.redis.zrange(DUE_KEY, 0, -1))
        known = {m.decode() if isinstance(m, bytes) else m for m in members}
        pipe = self.redis.pipeline(transaction=False)
        if wanted - known:
            pipe.zadd(DUE_KEY, dict.fromkeys(wanted - known, now), nx=True)
        if known - wanted:
            pipe.zrem(DUE_KEY, *(known - wanted))
            pipe.hdel(EMPTY_KEY, *(known - wanted))
        pipe.execute()

    def after_hourly(self, shop_ids: Iterable[int], now: float) -> None:
        """The hourly pass was enqueued for these shops: no fast poll before each one's
        own interval from now (a quiet shop's poll then waits for the next hourly)."""
        shops = [str(shop) for shop in shop_ids]
        if not shops:
            return
        counts = self.redis.hmget(EMPTY_KEY, shops)
        due = {
            shop: now + self.backoff.interval(int(count or 0))
            for shop, count in zip(shops, counts, strict=True)
        }
        self.redis.zadd(DUE_KEY, due, gt=True)

    def wake(self, shop_id: int, now: float | None = None) -> None:
        """A hit, a notification or a look at the shop's pages: back to the base interval
        (the next poll at most one base interval from now)."""
        with contextlib.suppress(RedisError):
            pipe = self.redis.pipeline(transaction=False)
            self.wake_in(pipe, shop_id, now)
            pipe.execute()

    def wake_in(self, pipe: Pipeline, shop_id: int, now: float | None = None) -> None:
        """``wake``'s commands, added to a pipeline of the caller's (a notification's
        enqueue: one round trip for both)."""
        now = time.time() if now is None else now
        pipe.hdel(EMPTY_KEY, str(shop_id))
        pipe.zadd(DUE_KEY, {str(shop_id): now + self.backoff.base}, lt=True)

    def after_pass(
        self, shop_id: int, mode: RunMode, seen: int, enqueued: int, now: float | None = None
    ) -> None:
        """A fast poll or hourly pass ended well. A hit: it found a status change (a fast
        poll) or enqueued something (either). An empty fast poll lengthens the wait; an
        empty hourly pass changes nothing."""
        if (mode == RunMode.POLL and seen) or enqueued:
            self.wake(shop_id, now)
        elif mode == RunMode.POLL and self.backoff.enabled:
            now = time.time() if now is None else now
            with contextlib.suppress(RedisError):
                empty = int(self.redis.hincrby(EMPTY_KEY, str(shop_id), 1))
                due = now + self.backoff.interval(empty)
                self.redis.zadd(DUE_KEY, {str(shop_id): due}, gt=True)

    def state(self, shop_id: int) -> tuple[float | None, int]:
        """(next due time, empty polls in a row) of one shop: for tests and the bench."""
        due = self.redis.zscore(DUE_KEY, str(shop_id))
        return due, int(self.redis.hget(EMPTY_KEY, str(shop_id)) or 0)
