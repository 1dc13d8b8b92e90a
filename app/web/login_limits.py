"""Limits on login attempts, checked in Redis before any password is hashed.

Three counters: attempts per client address and attempts overall (fixed windows of
``LOGIN_RATE_WINDOW``), and failures per account. Past the first two limits the answer is
429 at once: a flood of wrong logins costs no scrypt and leaves the other threads free.
Per account, after ``LOGIN_FREE_FAILURES`` failures each further try must wait 2, 4, 8 …
seconds (at most ``LOGIN_MAX_DELAY``): an attacker gets about one guess a minute, the
owner waits at most a minute after a correct password, never fifteen.

Without Redis the limits are not enforced (no throttling rather than no login).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError

from app.config import (
    LOGIN_FAILURE_WINDOW,
    LOGIN_FREE_FAILURES,
    LOGIN_MAX_DELAY,
    LOGIN_RATE_GLOBAL,
    LOGIN_RATE_PER_ADDRESS,
    LOGIN_RATE_WINDOW,
)

BUSY = "Te veel inlogpogingen. Probeer het over een minuut opnieuw."


def wait_message(seconds: int) -> str:
    return (
        f"Te veel mislukte pogingen voor dit account. Wacht {seconds} seconden en "
        "probeer het dan opnieuw."
    )


def now() -> float:
    return time.time()


class LoginLimits:
    def __init__(self, redis: Redis, clock: Callable[[], float] | None = None) -> None:
        self.redis, self.clock = redis, clock or (lambda: now())

    def refusal(self, address: str, email: str) -> str | None:
        """Count this attempt; the Dutch reason to refuse it (429), or None to go on."""
        window = int(self.clock() // LOGIN_RATE_WINDOW)
        per_address = f"login-rate:address:{address}:{window}"
        overall = f"login-rate:all:{window}"
        try:
            pipe = self.redis.pipeline()
            pipe.incr(per_address)
            pipe.expire(per_address, LOGIN_RATE_WINDOW)
            pipe.incr(overall)
            pipe.expire(overall, LOGIN_RATE_WINDOW)
            pipe.pttl(_wait_key(email))
            address_count, _, overall_count, _, wait_ms = pipe.execute()
        except RedisError:
            return None
        if address_count > LOGIN_RATE_PER_ADDRESS or overall_count > LOGIN_RATE_GLOBAL:
            return BUSY
        if wait_ms and wait_ms > 0:
            return wait_message(max(1, math.ceil(wait_ms / 1000)))
        return None

    def failed(self, email: str) -> None:
        try:
            pipe = self.redis.pipeline()
            pipe.incr(_failures_key(email))
            pipe.expire(_failures_key(email), LOGIN_FAILURE_WINDOW)
            failures = pipe.execute()[0]
            if failures >= LOGIN_FREE_FAILURES:
                delay = min(2 ** (failures - LOGIN_FREE_FAILURES + 1), LOGIN_MAX_DELAY)
                self.redis.set(_wait_key(email), 1, ex=delay)
        except RedisError:
            return

    def succeeded(self, email: str) -> None:
        with contextlib.suppress(RedisError):
            self.redis.delete(_failures_key(email), _wait_key(email))


def _failures_key(email: str) -> str:
    return f"login-failures:{email.strip().lower()}"


def _wait_key(email: str) -> str:
    return f"login-wait:{email.strip().lower()}"
