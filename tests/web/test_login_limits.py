"""Login attempts are limited per client address and per account, answered with 429 before
any password is hashed; a flood from one address never refuses another address's logins;
the limits hold while Redis is down or full (counted in the process instead); and password
checks run at most a few at a time, so a flood from many addresses cannot take the CPU."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import fakeredis
import pytest
import redis as redislib

import app.web.auth
import app.web.login_limits
from app.config import (
    LOGIN_FREE_FAILURES,
    LOGIN_HASH_CONCURRENCY,
    LOGIN_MAX_DELAY,
    LOGIN_RATE_PER_ADDRESS,
)
from app.services import redis_client
from app.web.login_limits import LoginLimits, MemoryCounters, _wait_key
from tests.helpers import OwnRedis, free_port
from tests.web.helpers import EMAIL, PASSWORD, Web, csrf


@pytest.fixture(autouse=True)
def _one_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """All attempts of a test in one counting window, wherever the minute turns."""
    monkeypatch.setattr(app.web.login_limits, "now", lambda: 1_000_000.0)


class Hashes:
    """Counts password checks, and how many ran at the same time."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, gate: threading.Event | None = None):
        self.count = self.running = self.most = 0
        self.lock = threading.Lock()
        real = app.web.auth.check_password_hash

        def counting(stored: str, password: str) -> bool:
            with self.lock:
                self.count += 1
                self.running += 1
                self.most = max(self.most, self.running)
            try:
                if gate is not None:
                    assert gate.wait(timeout=30)
                return real(stored, password)
            finally:
                with self.lock:
                    self.running -= 1

        monkeypatch.setattr(app.web.auth, "check_password_hash", counting)


def attempt(web: Web, address: str, email: str = EMAIL, password: str = "fout") -> int:
    return attempt_page(web, address, email, password)[0]


def attempt_page(
    web: Web, address: str, email: str = EMAIL, password: str = "fout"
) -> tuple[int, str, dict[str, str]]:
    client = web.app.test_client()
    token = csrf(client, "/login")
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )
    return response.status_code, response.get_data(as_text=True), dict(response.headers)


def test_one_address_is_limited_and_refused_without_hashing(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashes = Hashes(monkeypatch)
    for n in range(LOGIN_RATE_PER_ADDRESS):
        assert attempt(web, "203.0.113.7", f"iemand{n}@example.nl") == 401
    assert hashes.count == LOGIN_RATE_PER_ADDRESS
    start = time.perf_counter()
    status, page, headers = attempt_page(web, "203.0.113.7", "nog-iemand@example.nl")
    assert status == 429 and "vanaf dit adres" in page
    assert headers["Retry-After"] == "60"
    assert hashes.count == LOGIN_RATE_PER_ADDRESS  # refused before scrypt
    assert time.perf_counter() - start < 0.5
    assert attempt(web, "198.51.100.1", EMAIL, PASSWORD) == 302  # other addresses go on


def test_a_flood_from_one_address_does_not_lock_out_anyone_else(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe: ~70 wrong logins from one address in two seconds, then a correct login
    from another address. An overall counter (which also counted the refused attempts)
    answered 429 to everybody for the rest of the minute."""
    hashes = Hashes(monkeypatch)
    answers = [attempt(web, "203.0.113.66", f"gok{n}@example.nl") for n in range(70)]
    assert answers.count(401) == LOGIN_RATE_PER_ADDRESS
    assert answers.count(429) == 70 - LOGIN_RATE_PER_ADDRESS
    assert hashes.count == LOGIN_RATE_PER_ADDRESS
    assert attempt(web, "198.51.100.20", EMAIL, PASSWORD) == 302
    for n in range(LOGIN_RATE_PER_ADDRESS):  # and any other address has its own count
        assert attempt(web, "198.51.100.21", f"ander{n}@example.nl") == 401


def test_a_guessed_account_waits_seconds_not_minutes(web: Web) -> None:
    for n in range(LOGIN_FREE_FAILURES):
        assert attempt(web, f"192.0.2.{n}") == 401
    status, page, _ = attempt_page(web, "192.0.2.99", EMAIL, PASSWORD)
    assert status == 429
    assert "Wacht 2 seconden" in page
    # The wait is a key that Redis expires in 2 s: let those seconds pass in Redis (the
    # key expires in 10 ms), not on the test's clock.
    redis, key = web.services.redis, _wait_key(EMAIL)
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
        waits.append(limits.redis.ttl(_wait_key(EMAIL)))
    assert waits[: LOGIN_FREE_FAILURES - 1] == [-2] * (LOGIN_FREE_FAILURES - 1)
    assert waits[LOGIN_FREE_FAILURES - 1 : LOGIN_FREE_FAILURES + 2] == [2, 4, 8]
    assert max(waits) == LOGIN_MAX_DELAY
    limits.succeeded(EMAIL)
    assert limits.refusal("192.0.2.1", EMAIL) is None


def test_redis_keeps_no_address_or_account_in_clear() -> None:
    redis = fakeredis.FakeRedis()
    limits = LoginLimits(redis, clock=lambda: 1000.0)
    limits.refusal("203.0.113.9", "Geheim@Example.nl")
    for _ in range(LOGIN_FREE_FAILURES):
        limits.failed("Geheim@Example.nl")
    keys = b" ".join(redis.keys("*")).lower()
    assert keys and b"203.0.113.9" not in keys and b"geheim" not in keys
    limits.failed("x" * 100_000)  # whatever is typed, the key stays short
    assert max(len(k) for k in redis.keys("*")) < 80


def dead_redis() -> redislib.Redis:
    """Nothing listens on this port: every command fails to connect (a client made as
    the web process makes its own)."""
    return redis_client(f"redis://127.0.0.1:{free_port()}/0")


@pytest.mark.parametrize("outage", ["Redis down", "Redis full (noeviction)"])
def test_the_limits_hold_when_redis_cannot_count(
    web: Web, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, outage: str
) -> None:
    """The probe: with Redis stopped, 25 wrong passwords for one account were all checked
    (unbounded scrypt); a full Redis (``maxmemory`` + ``noeviction``, Heroku's setting)
    the same. Now this process counts: the account waits after five failures, and the
    address is refused after its ten attempts a minute."""
    own = OwnRedis(tmp_path).start() if outage != "Redis down" else None
    try:
        if own is None:
            web.services.redis = dead_redis()
        else:
            full = redis_client(own.url)  # as the web process makes it
            full.config_set("maxmemory", "2mb")
            full.config_set("maxmemory-policy", "noeviction")
            with pytest.raises(redislib.exceptions.OutOfMemoryError, match="maxmemory"):
                for n in range(10_000):
                    full.set(f"vulling:{n}", "x" * 10_000)
            web.services.redis = full
        hashes = Hashes(monkeypatch)
        answers = [attempt(web, f"192.0.2.{n}", EMAIL, "fout") for n in range(25)]
        assert answers[:LOGIN_FREE_FAILURES] == [401] * LOGIN_FREE_FAILURES
        assert set(answers[LOGIN_FREE_FAILURES:]) == {429}
        assert hashes.count == LOGIN_FREE_FAILURES  # not 25
        by_address = [attempt(web, "203.0.113.5", f"a{n}@example.nl") for n in range(15)]
        assert by_address.count(401) == LOGIN_RATE_PER_ADDRESS
        assert by_address[LOGIN_RATE_PER_ADDRESS:] == [429] * (15 - LOGIN_RATE_PER_ADDRESS)
        assert attempt(web, "198.51.100.3", "ander@example.nl", "fout") == 401
    finally:
        if own is not None:
            own.kill()


def test_the_fallback_counters_stay_bounded() -> None:
    memory = MemoryCounters(max_keys=100)
    for n in range(1_000):
        memory.incr(f"k{n}", 60, at=float(n))
    assert len(memory._values) <= 100
    assert memory.incr("k999", 60, at=999.0) == 2  # the newest survive
    assert memory.left("k999", 1000.0) == pytest.approx(59.0)
    assert memory.left("k999", 2000.0) == 0.0


def test_password_checks_run_a_few_at_a_time(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many addresses at once (each within its own limit): at most
    ``LOGIN_HASH_CONCURRENCY`` password checks run together; who gets no turn within the
    wait is told to try again in a moment (503), and a correct login afterwards works."""
    gate = threading.Event()
    hashes = Hashes(monkeypatch, gate)
    web.app.extensions["login_slots"].wait = 0.3
    tokens = []
    for _ in range(LOGIN_HASH_CONCURRENCY + 3):
        client = web.app.test_client()
        tokens.append((client, csrf(client, "/login")))
    answers: dict[int, int] = {}

    def one(index: int) -> None:
        client, token = tokens[index]
        answers[index] = client.post(
            "/login",
            data={"email": f"p{index}@example.nl", "password": "fout", "csrf_token": token},
            environ_base={"REMOTE_ADDR": f"10.1.0.{index}"},
        ).status_code

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(tokens))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(answers) < 3 and time.monotonic() < deadline:  # the three without a turn
        time.sleep(0.01)
    assert sorted(answers.values()) == [503, 503, 503]
    assert hashes.running == LOGIN_HASH_CONCURRENCY
    gate.set()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers.values()) == [401] * LOGIN_HASH_CONCURRENCY + [503] * 3
    assert hashes.most == LOGIN_HASH_CONCURRENCY
    assert attempt(web, "10.1.0.99", EMAIL, PASSWORD) == 302
