"""Redis fast path: the orders of each shop booked lately (``BookedCache``).

Redis only ever answers "yes, booked" from what SQL already committed, so losing Redis
loses speed, never correctness: a missing set is rebuilt from SQL on first use, and a
miss always falls through to the SQL register. The set holds a window of recent
bookings only (an order booked earlier is a miss, and SQL answers it).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable

from redis import Redis


def _booked_key(shop_id: int) -> str:
    return f"mww:booked:{shop_id}"


def _built_key(shop_id: int) -> str:
    return f"mww:booked:{shop_id}:built"


_ADD_IF_BUILT = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('SADD', KEYS[2], ARGV[1]) end
return 0
"""


class BookedCache:
    """Orders of a shop booked in the last ``WINDOW`` (a fast path only: a miss asks SQL).
    The set is rebuilt from SQL when its built marker expires (every ``REBUILD`` seconds),
    so it holds ``WINDOW`` to ``WINDOW + REBUILD`` of orders, never a shop's whole history.
    A rebuild fills a key of its own and renames it over the set in one transaction:
    readers see the old set or the new one whole, never a half-built one."""

    WINDOW = dt.timedelta(days=90)  # PAYMENT_LOOKBACK_DAYS (60) and a margin
    REBUILD = 30 * 24 * 3600  # a third of the window
    CHUNK = 5_000  # members per SADD while filling

    def __init__(
        self,
        redis: Redis,
        load_booked: Callable[[int, dt.datetime], list[str]],
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.redis = redis
        self._load_booked = load_booked  # shop id, since → booked order numbers, from SQL
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def _ensure_built(self, shop_id: int) -> None:
        if self.redis.exists(_built_key(shop_id)):
            return
        numbers = self._load_booked(shop_id, self._clock() - self.WINDOW)
        new = f"{_booked_key(shop_id)}:new:{uuid.uuid4().hex}"
        self._fill(new, numbers)
        swap = self.redis.pipeline()  # MULTI/EXEC
        if numbers:
            swap.rename(new, _booked_key(shop_id))
            swap.expire(_booked_key(shop_id), 2 * self.REBUILD)  # a gone shop's set goes too
        else:
            swap.delete(_booked_key(shop_id))
        swap.set(_built_key(shop_id), "1", ex=self.REBUILD)
        swap.execute()

    def _fill(self, key: str, numbers: list[str]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for start in range(0, len(numbers), self.CHUNK):
            pipe.sadd(key, *numbers[start : start + self.CHUNK])
        pipe.expire(key, 600)  # a rebuilder that dies here leaves nothing behind for long
        pipe.execute()

    def is_booked(self, shop_id: int, order_number: str) -> bool:
        # One round trip when the set is built (every job asks this first).
        pipe = self.redis.pipeline(transaction=False)
        pipe.exists(_built_key(shop_id))
        pipe.sismember(_booked_key(shop_id), order_number)
        built, member = pipe.execute()
        if built:
            return bool(member)
        self._ensure_built(shop_id)
        return bool(self.redis.sismember(_booked_key(shop_id), order_number))

    def booked_among(self, shop_id: int, order_numbers: Iterable[str]) -> set[str]:
        """Which of these are booked, in one round trip (after a rebuild if needed)."""
        numbers = list(order_numbers)
        if not numbers:
            return set()
        self._ensure_built(shop_id)
        flags = self.redis.smismember(_booked_key(shop_id), numbers)
        return {n for n, flag in zip(numbers, flags, strict=True) if flag}

    def mark_booked(self, shop_id: int, order_number: str) -> None:
        # Only add to a set that exists as a whole; otherwise the rebuild will include it.
        # One round trip (a script: the check and the add are atomic).
        self.redis.eval(_ADD_IF_BUILT, 2, _built_key(shop_id), _booked_key(shop_id), order_number)
