"""A rate limit and an in-flight probe for the simulators.

Neither e-Boekhouden nor Mijnwebwinkel documents its limit (reference: eboekhouden
NOTES §11 and rest/README.md "Rate limits are not documented"; mijnwebwinkel NOTES §3.2:
"a limit exists per partner + store", whether it answers 429 is unverified). The
simulators assume the usual shape, written down in docs/assumptions-eboekhouden.md (18):
at most ``per_second`` requests in each one-second window per key (an e-Boekhouden
administration, a Mijnwebwinkel shop token); the request over it is answered 429 with
``Retry-After`` in whole seconds (at least 1) and not processed. Off (None) by default.

``InFlight`` counts the requests a key has open at once and remembers the most, so a test
can check that the connector's per-administration concurrency limit held.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator


class RateLimit:
    """Requests per second per key; ``admit`` answers None (go on) or the Retry-After."""

    def __init__(
        self, per_second: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_second = per_second
        self._clock = clock
        self._lock = threading.Lock()
        self._window: dict[str, tuple[int, int]] = {}  # key → (second, requests in it)
        self.refused: Counter[str] = Counter()

    def admit(self, key: str) -> int | None:
        if not self.per_second:
            return None
        now = self._clock()
        second = math.floor(now)
        with self._lock:
            start, count = self._window.get(key, (second, 0))
            if start != second:
                start, count = second, 0
            if count >= self.per_second:
                self.refused[key] += 1
                return max(1, math.ceil(start + 1 - now))
            self._window[key] = (start, count + 1)
            return None

    def reset(self) -> None:
        with self._lock:
            self._window.clear()
            self.refused.clear()


class InFlight:
    """Requests open at once per key, and the most seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now: Counter[str] = Counter()
        self.most: Counter[str] = Counter()

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[None]:
        with self._lock:
            self.now[key] += 1
            self.most[key] = max(self.most[key], self.now[key])
        try:
            yield
        finally:
            with self._lock:
                self.now[key] -= 1

    def reset(self) -> None:
        with self._lock:
            self.now.clear()
            self.most.clear()
