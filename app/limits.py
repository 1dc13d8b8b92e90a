"""Calls at once per e-Boekhouden administration, across every process: a Redis semaphore.

Many shops of one accountant may book into one administration, and e-Boekhouden's limits
are the administration's. ``AdministrationSlots.hold(key)`` takes one of
``EBOEKHOUDEN_MAX_CONCURRENT`` slots for the length of one call (app/services.py wraps
every call of the shop's e-Boekhouden client, never a whole job: a booking does not hold
a slot while it talks to Mijnwebwinkel).

A slot is a lease: a member of a sorted set (``mww:eb-slots:<administration>``) scored
with the moment it expires, so a worker killed mid-call frees its slot after
``lease_seconds`` without anyone cleaning up. Taking one is a Lua script over that key
alone (drop expired leases, count, add). A long paged read renews its lease per page
(``renew``). When no slot comes free within ``wait_seconds`` the call is not made and
``AdministrationBusyError`` says when to try again: the booking job is deferred
(app/jobs/defer.py), the order is not failed.

With Redis away the slot is not taken (logged): the limit is a courtesy to e-Boekhouden,
its 429 answers are the hard one, and a booking must not stop for it.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import cast

from redis import Redis
from redis.commands.core import Script
from redis.exceptions import RedisError

from app.errors import AdministrationBusyError

log = logging.getLogger(__name__)

SLOT_WAIT_SECONDS = 5.0  # a call waits this long for a slot, then its job is deferred
BUSY_RETRY_AFTER = 15.0  # seconds: a deferred job tries again this much later
_POLL_SECONDS = (0.02, 0.05, 0.1, 0.2)  # between tries for a slot (then the last)

# KEYS: 1 the administration's slots. ARGV: 1 now, 2 lease seconds, 3 limit, 4 token.
_TAKE_LUA = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return 1
"""


def slots_key(administration: str) -> str:
    return f"mww:eb-slots:{administration}"


class AdministrationSlots:
    """At most ``limit`` calls at once per administration key (see the module docstring)."""

    def __init__(
        self,
        redis: Redis,
        limit: int,
        *,
        lease_seconds: float,
        wait_seconds: float = SLOT_WAIT_SECONDS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.redis, self.limit = redis, max(1, limit)
        self.lease_seconds, self.wait_seconds = lease_seconds, wait_seconds
        self._clock, self._sleep = clock, sleep
        self._script: Script | None = None

    def _take(self, administration: str, token: str) -> bool:
        if self._script is None:
            self._script = cast(Script, self.redis.register_script(_TAKE_LUA))
        args: list[float | str] = [self._clock(), self.lease_seconds, self.limit, token]
        return bool(self._script(keys=[slots_key(administration)], args=args, client=self.redis))

    @contextlib.contextmanager
    def hold(self, administration: str) -> Iterator[str | None]:
        """One slot for the block (its token; None when Redis did not answer). Raises
        ``AdministrationBusyError`` when none came free within ``wait_seconds``."""
        token = uuid.uuid4().hex
        try:
            taken = self._wait_for(administration, token)
        except RedisError as err:
            log.warning("e-Boekhouden call slot not taken (Redis): %s", err)
            yield None
            return
        if not taken:
            raise AdministrationBusyError(
                f"no free e-Boekhouden call slot within {self.wait_seconds:.0f}s "
                f"(limit {self.limit} at once per administration)",
                retry_after=BUSY_RETRY_AFTER,
                system="eboekhouden",
                code="administration_busy",
                explanation="Andere webwinkels boeken nu in dezelfde administratie van "
                "e-Boekhouden. De koppeling boekt deze bestelling zo meteen vanzelf.",
            )
        try:
            yield token
        finally:
            with contextlib.suppress(RedisError):  # else the lease runs out by itself
                self.redis.zrem(slots_key(administration), token)

    def _wait_for(self, administration: str, token: str) -> bool:
        deadline = self._clock() + self.wait_seconds
        for attempt in range(1_000_000):
            if self._take(administration, token):
                return True
            if self._clock() >= deadline:
                return False
            self._sleep(_POLL_SECONDS[min(attempt, len(_POLL_SECONDS) - 1)])
        return False

    def renew(self, administration: str, token: str | None) -> None:
        """Push a held lease's end out by ``lease_seconds`` (a long read, page by page)."""
        if token is None:
            return
        with contextlib.suppress(RedisError):
            until = self._clock() + self.lease_seconds
            self.redis.zadd(slots_key(administration), {token: until}, xx=True)

    def in_use(self, administration: str) -> int:
        """Slots held now (expired leases not counted)."""
        return int(self.redis.zcount(slots_key(administration), f"({self._clock()}", "+inf"))
