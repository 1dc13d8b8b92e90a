"""`make run` from a clean copy, and the production Procfile under honcho.

Slow (each starts the whole system), but this is what a newcomer and an operator do.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from redis import Redis

from tests.helpers import (
    PG_AVAILABLE,
    REDIS_AVAILABLE,
    REDIS_URL,
    descendants,
    free_port,
    fresh_pg_database,
    wait_until,
)

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
SKIP_DIRS = {
    ".venv",
    ".git",
    "instance",
    "test-artifacts",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".hypothesis",
    "__pycache__",
}


def clean_copy(target: Path) -> Path:
    def ignore(directory: str, names: list[str]) -> set[str]:
        return {n for n in names if n in SKIP_DIRS or n == ".env" or n.endswith(".egg-info")}

    shutil.copytree(ROOT, target, ignore=ignore)
    return target


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        state = (
            Path(f"/proc/{pid}/stat").read_text().split()[2]
            if Path(f"/proc/{pid}/stat").exists()
            else "X"
        )
        if state != "Z":
            living.add(pid)
    return living


def login(session: requests.Session, base: str, email: str, password: str) -> None:
    page = session.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, "login form has a CSRF token"
    answer = session.post(
        f"{base}/login",
        data={"csrf_token": token.group(1), "email": email, "password": password, "next": "/"},
        timeout=10,
    )
    assert answer.status_code == 200 and "Uitloggen" in answer.text


def run_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "PORT")
    }
    env.update(
        SANDBOX_ORDER_INTERVAL="1",
        SANDBOX_BANNER_INTERVAL="5",
        POLL_INTERVAL_SECONDS="5",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def start_make_run(copy: Path, log_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "sandbox.run"],
            cwd=copy,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, and every process of make run gone."""
    family = descendants(process.pid)
    process.send_signal(signal.SIGINT)  # what Ctrl-C sends
    process.wait(timeout=60)
    wait_until(lambda: alive(family) == set(), 15, "every process of make run to stop")


@contextmanager
def port_5000_taken() -> Iterator[None]:
    """Port 5000 taken, as on a Mac with the AirPlay receiver: a listener of our own, unless
    something else holds it already."""
    listener = socket.socket()
    try:
        listener.bind(("127.0.0.1", 5000))
        listener.listen()
    except OSError:
        pass  # taken already
    try:
        yield
    finally:
        listener.close()


def wait_for_log(path: Path, pattern: str, timeout: float) -> re.Match[str]:
    found: list[re.Match[str]] = []

    def seen() -> bool:
        match = re.search(pattern, path.read_text(errors="replace"))
        found[:] = [match] if match else []
        return bool(match)

    wait_until(seen, timeout, f"{pattern!r} in make run's output")
    return found[0]


def port_of(log_path: Path) -> int:
    found = wait_for_log(log_path, r"Connector:\s+http://127\.0\.0\.1:(\d+)/", 90)
    return int(found.group(1))


@pytest.fixture
def sandbox_run(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path, int, Path]]:
    """A newcomer's `make run` (no PORT) on a machine where port 5000 is taken."""
    copy = clean_copy(tmp_path / "repo")
    log_path = tmp_path / "run.log"
    with port_5000_taken():
        process = start_make_run(copy, log_path, run_env())
        try:
            found = wait_for_log(log_path, r"the connector listens on (\d+)", 90)
            yield process, copy, int(found.group(1)), log_path
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)


def test_make_run_from_a_clean_copy_books_sandbox_orders(sandbox_run) -> None:  # type: ignore[no-untyped-def]
    process, copy, port, log_path = sandbox_run
    assert port != 5000 and port_of(log_path) == port
    base = f"http://127.0.0.1:{port}"
    wait_until(
        lambda: requests.get(f"{base}/healthz", timeout=2).status_code == 200,
        90,
        f"/healthz (log: {log_path.read_text()[-3000:]})",
    )
    env = dict(
        line.split("=", 1)
        for line in (copy / ".env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    # The login the banner shows, and keeps showing (a reminder every few seconds here).
    shown = wait_for_log(log_path, r"log in as (\S+)  /  (\S+)", 30)
    assert (shown.group(1), shown.group(2)) == (
        env["SANDBOX_ADMIN_EMAIL"],
        env["SANDBOX_ADMIN_PASSWORD"],
    )
    session = requests.Session()
    login(session, base, env["SANDBOX_ADMIN_EMAIL"], env["SANDBOX_ADMIN_PASSWORD"])

    def booked_count() -> int:
        page = session.get(f"{base}/koppelingen/1", timeout=10).text
        found = re.search(r'id="count-geboekt".*?<span class="number">(\d+)</span>', page, re.S)
        return int(found.group(1)) if found else 0

    wait_until(lambda: booked_count() >= 2, 90, "sandbox orders to be booked")
    assert session.get(f"{base}/admin/rq/", timeout=10).status_code == 200
    assert requests.get(f"{base}/admin/rq/", timeout=10, allow_redirects=False).status_code in (
        302,
        303,
    )  # not without login
    metrics = requests.get(f"{base}/metrics", timeout=10).text
    assert 'mww_bookings_total{outcome="booked"}' in metrics  # from the worker processes

    # A second terminal: the CLI finds this run's Redis and simulators (.env), so a shop
    # connected from there is checked against the simulators.
    cli = run_env()
    secrets_ = {  # never as options: from the environment (issue 29)
        "SHOP_MWW_TOKEN": env["SANDBOX_SHOP_TOKEN"],
        "SHOP_EB_API_TOKEN": env["SANDBOX_EB_API_TOKEN"],
    }
    added = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "shops", "add",
         "--name", "Tweede winkel", "--eb-api", "rest", "--invoice-format", "W2-{number}"],
        cwd=copy, env={**cli, **secrets_}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr[-2000:]
    listed = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "shops", "list"],
        cwd=copy, env=cli, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "Tweede winkel" in listed.stdout and "Sandbox-winkel" in listed.stdout
    # The banner comes back below the processes' output: the last screen shows the login
    # (a reminder every few seconds here), while it runs; what the stop prints comes after.
    wait_until(
        lambda: any(
            env["SANDBOX_ADMIN_PASSWORD"] in line
            for line in log_path.read_text().strip().splitlines()[-40:]
        ),
        30,
        "the login on the last screen",
    )

    stop(process)
    log = log_path.read_text()
    assert "# --- make run" not in (copy / ".env").read_text()  # taken out at the stop
    assert "e-Boekhouden REST" in log  # the sandbox shop books through REST by default
    # make run starts a local SMTP sink for the alert mails and says where they go.
    assert "Mail:         alert mails go to a local sink, smtp://127.0.0.1:" in log
    assert "mail sink: smtp://127.0.0.1:" in log
    for name in (
        "SANDBOX_SHOP_TOKEN",
        "SANDBOX_EB_CODE1",
        "SANDBOX_EB_CODE2",
        "SANDBOX_EB_API_TOKEN",
        "SECRET_KEY",
        "ENCRYPTION_KEY",
    ):
        assert env[name] not in log, f"{name} leaked into the logs"
    assert "whsec_" not in log
    assert "Job OK" not in log and "job OK" not in log  # RQ's line per job is left out

    # Run again: the sandbox shop exists next to the second shop, so the simulators start
    # and the banner says the other shop talks to them too.
    again_log = log_path.with_name("again.log")
    again = start_make_run(copy, again_log, run_env())
    try:
        wait_for_log(again_log, r"every shop talks to the simulators here, also Tweede winkel", 90)
        second = f"http://127.0.0.1:{port_of(again_log)}"
        wait_until(
            lambda: requests.get(f"{second}/healthz", timeout=2).status_code == 200,
            90,
            "the second run's /healthz",
        )
    finally:
        stop(again)


@pytest.mark.skipif(
    not (PG_AVAILABLE and REDIS_AVAILABLE), reason="needs the local PostgreSQL and Redis"
)
def test_production_procfile_boots_every_process(tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    database_url = fresh_pg_database("mww_connector_procfile")
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("TEST_REDIS_PROCFILE_URL", REDIS_URL),  # the suite's own
        "SECRET_KEY": secrets.token_hex(32),
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    redis = Redis.from_url(env["REDIS_URL"])
    redis.flushdb()  # the suite's own database: no worker or clock key of an earlier test
    for _ in range(2):  # the release step is idempotent
        release = subprocess.run(
            [sys.executable, "-m", "app.migrate"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert release.returncode == 0, release.stderr.decode()[-2000:]
    honcho = Path(sys.executable).parent / "honcho"
    log_path = tmp_path / "honcho.log"
    no_env_file = tmp_path / "empty.env"  # not the developer's .env from `make run`
    no_env_file.write_text("")
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(honcho),
                "start",
                "-f",
                "Procfile",
                "-e",
                str(no_env_file),
                "web",
                "worker",
                "clock",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    from rq import Worker

    try:
        wait_until(
            lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200,
            60,
            "/healthz",
        )
        # Each process at work: the worker registered with RQ, the clock's first tick.
        try:
            wait_until(lambda: len(Worker.all(connection=redis)) >= 1, 90, "the worker")
            wait_until(lambda: bool(redis.keys("mww:clock:*")), 90, "the clock's first tick")
        except AssertionError as err:
            raise AssertionError(f"{err}\n{log_path.read_text()[-3000:]}") from None
        assert process.poll() is None, log_path.read_text()[-3000:]
        text = log_path.read_text()
        for name in ("web", "worker", "clock"):
            assert f"{name}.1 started" in text or f"{name} started" in text
        assert "stopped" not in text, text[-3000:]
        assert '"level"' in text  # JSON log lines in production
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        redis.flushdb()


def test_missing_production_settings_stop_the_process_with_one_message() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ENCRYPTION_KEY", "PUBLIC_BASE_URL")
    }
    env["APP_ENV"] = "production"
    result = subprocess.run(
        [sys.executable, "-m", "worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ENCRYPTION_KEY"):
        assert name in result.stderr
