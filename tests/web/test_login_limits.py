"""Login attempts are limited per client address and overall, answered with 429 before any
password is hashed; a guessed account slows down, it is not locked for long."""

from __future__ import annotations

import time

import fakeredis
import pytest

import app.web.auth
import app.web.login_limits
from app.config import (
    LOGIN_FREE_FAILURES,
    LOGIN_MAX_DELAY,
    LOGIN_RATE_GLOBAL,
    LOGIN_RATE_PER_ADDRESS,
)
from app.web.login_limits import LoginLimits
from tests.web.helpers import EMAIL, PASSWORD, Web, csrf


@pytest.fixture(autouse=True)
def _one_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """All attempts of a test in one counting window, wherever the minute turns."""
    monkeypatch.setattr(app.web.login_limits, "now", lambda: 1_000_000.0)


class Hashes:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = app.web.auth.check_password_hash

        def counting(stored: str, password: str) -> bool:
            self.count += 1
            return real(stored, password)

        monkeypatch.setattr(app.web.auth, "check_password_hash", counting)


def attempt(web: Web, address: str, email: str = EMAIL, password: str = "fout") -> int:
    client = web.app.test_client()
    token = csrf(client, "/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    ).status_code


def test_one_address_is_limited_and_refused_without_hashing(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashes = Hashes(monkeypatch)
    for n in range(LOGIN_RATE_PER_ADDRESS):
        assert attempt(web, "203.0.113.7", f"iemand{n}@example.nl") == 401
    assert hashes.count == LOGIN_RATE_PER_ADDRESS
    start = time.perf_counter()
    assert attempt(web, "203.0.113.7", "nog-iemand@example.nl") == 429
    assert hashes.count == LOGIN_RATE_PER_ADDRESS  # refused before scrypt
    assert time.perf_counter() - start < 0.5
    assert attempt(web, "198.51.100.1", EMAIL, PASSWORD) == 302  # other addresses go on


def test_all_addresses_together_are_limited(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    hashes = Hashes(monkeypatch)
    monkeypatch.setattr(app.web.auth, "check_password_hash", lambda stored, pw: False)
    for n in range(LOGIN_RATE_GLOBAL):
        assert attempt(web, f"10.0.{n // 200}.{n % 200}", f"x{n}@example.nl") == 401
    assert attempt(web, "10.9.9.9", "x@example.nl") == 429
    assert hashes.count == 0


def test_a_guessed_account_waits_seconds_not_minutes(web: Web) -> None:
    for n in range(LOGIN_FREE_FAILURES):
        assert attempt(web, f"192.0.2.{n}") == 401
    client = web.app.test_client()
    token = csrf(client, "/login")
    refused = client.post(
        "/login",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "192.0.2.99"},
    )
    assert refused.status_code == 429
    assert "Wacht 2 seconden" in refused.get_data(as_text=True)
    # The wait is a key that Redis expires in 2 s: let those seconds pass in Redis (the
    # key expires in 10 ms), not on the test's clock.
    redis, key = web.services.redis, f"login-wait:{EMAIL}"
    assert 1000 < redis.pttl(key) <= 2000
    redis.pexpire(key, 10)
    deadline = time.monotonic() + 5
    while redis.exists(key):
        assert time.monotonic() < deadline, "the wait did not expire"
        time.sleep(0.005)
    assert attempt(web, "192.0.2.100", EMAIL, PASSWORD) == 302  # the owner gets in
    assert attempt(web, "192.0.2.101", EMAIL, "fout") == 401  # and the count starts over


def test_the_wait_doubles_and_is_capped() -> None:
    now = [1000.0]
    limits = LoginLimits(fakeredis.FakeRedis(), clock=lambda: now[0])
    waits = []
    for _ in range(LOGIN_FREE_FAILURES + 8):
        limits.failed(EMAIL)
        waits.append(limits.redis.ttl(f"login-wait:{EMAIL}"))
    assert waits[: LOGIN_FREE_FAILURES - 1] == [-2] * (LOGIN_FREE_FAILURES - 1)
    assert waits[LOGIN_FREE_FAILURES - 1 : LOGIN_FREE_FAILURES + 2] == [2, 4, 8]
    assert max(waits) == LOGIN_MAX_DELAY
    limits.succeeded(EMAIL)
    assert limits.refusal("192.0.2.1", EMAIL) is None
