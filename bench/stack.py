"""The whole system on this machine, for the benchmarks and the chaos suite.

``Stack`` starts, on loopback only:

- its own ``redis-server`` on a free port, no persistence (so ``restart_redis()`` is a
  restart *with its data lost*);
- a fresh PostgreSQL database (``CREATE DATABASE``), migrated; dropped again on stop;
- the simulators (``python -m sandbox``) with one Mijnwebwinkel shop and one
  e-Boekhouden administration per connected shop: SOAP (username and codes) or REST (an
  API token), per ``eb_apis`` ("soap", "rest", or "mixed": every second shop REST);
- the Procfile's processes: gunicorn (the ``web`` command), N ``python -m worker``
  processes, the clock (``python -m reconciler --loop``).

Every process runs in its own session; ``stop()`` (also on ``with`` exit, at interpreter
exit and — via ``PR_SET_PDEATHSIG`` — when this process dies) stops whole process groups
and reports anything left. Spawn processes only from the main thread or the stack's own
supervisor thread: the death signal is tied to the spawning thread.

    with Stack("demo", workers=2, shops=2) as stack:
        stack.notify(stack.shops[0], "1001")
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import datetime as dt
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = (
    os.environ.get("BENCH_PG_ADMIN_URL")
    or os.environ.get("TEST_PG_ADMIN_URL")
    or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# Variables the processes read (app/config.py, gunicorn); never inherited from our caller.
APP_VARS = (
    "APP_ENV",
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "ENCRYPTION_KEY",
    "PUBLIC_BASE_URL",
    "MIJNWEBWINKEL_API_URL",
    "MIJNWEBWINKEL_PARTNER_TOKEN",
    "EBOEKHOUDEN_SOAP_URL",
    "EBOEKHOUDEN_REST_URL",
    "EBOEKHOUDEN_SOURCE",
    "HTTP_TIMEOUT_SECONDS",
    "SOAP_OPERATION_TIMEOUT_SECONDS",
    "QUEUE_NAME",
    "POLL_INTERVAL_SECONDS",
    "RECONCILE_INTERVAL_SECONDS",
    "RECONCILE_LOOKBACK_HOURS",
    "RECONCILE_OVERLAP_MINUTES",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "METRICS_TOKEN",
    "PORT",
    "BIND_HOST",
    "WEB_CONCURRENCY",
    "PROMETHEUS_MULTIPROC_DIR",
    "BOOKING_LEASE_SECONDS",
    "WEB_UPSTREAM_TIMEOUT_SECONDS",
    "WEB_THREADS",
)


# --- small helpers ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except (requests.RequestException, OSError) as err:
            last = err
        time.sleep(interval)
    raise TimeoutError(
        f"timed out after {timeout:.0f}s waiting for {what}"
        + (f" (last error: {last})" if last else "")
    )


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


def services_unavailable() -> str | None:
    """Why the stack cannot run here (None when PostgreSQL and redis-server are there)."""
    if redis_server_binary() is None:
        return "redis-server is not on PATH"
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as err:
        return f"PostgreSQL does not answer at {PG_ADMIN_URL.split('@')[-1]} ({type(err).__name__})"
    return None


def fresh_database(name: str, admin_url: str = PG_ADMIN_URL) -> str:
    """(Re)create database ``name``; returns its SQLAlchemy URL."""
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str, admin_url: str = PG_ADMIN_URL) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def signed_headers(
    secret: str, body: bytes, *, msg_id: str | None = None, at: dt.datetime | None = None
) -> dict[str, str]:
    """Standard Webhooks headers for ``body`` (the notification contract)."""
    from standardwebhooks.webhooks import Webhook

    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = at or dt.datetime.now(dt.UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body.decode()),
        "Content-Type": "application/json",
    }


def _proc_table() -> dict[int, tuple[int, int, str]]:
    """pid → (ppid, pgid, state) for every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        table[int(entry)] = (int(fields[1]), int(fields[2]), fields[0])
    return table


def living_in_groups(pgids: Iterable[int]) -> set[int]:
    """Processes (not zombies) in any of these process groups."""
    wanted = set(pgids)
    return {
        pid
        for pid, (_, pgid, state) in _proc_table().items()
        if pgid in wanted and state not in ("Z", "X")
    }


def descendants(pid: int) -> list[int]:
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for child, (parent, _, state) in table.items():
        if state not in ("Z", "X"):
            children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _living() -> set[int]:
    return {pid for pid, (_, _, state) in _proc_table().items() if state not in ("Z", "X")}


def _kill_all(pids: Iterable[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def rss_kib(pid: int) -> int:
    """Resident set size of one process in KiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


# --- processes ----------------------------------------------------------------------


class Proc:
    """One command in its own session (process group), output to a log file."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], log_path: Path, role: str
    ) -> None:
        self.name, self.argv, self.env, self.log_path, self.role = name, argv, env, log_path, role
        self.popen: subprocess.Popen[bytes] | None = None
        self.pgids: set[int] = set()
        self.seen: set[int] = set()  # descendants seen at kill/stop time
        self.starts = 0
        self.expected_down = False  # stopped or killed on purpose: do not restart

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def start(self) -> Proc:
        with self.log_path.open("ab") as log:
            log.write(f"\n--- start {self.name}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self.pgids.add(self.popen.pid)
        self.starts += 1
        self.expected_down = False
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)

    def family(self) -> list[int]:
        """Its descendants now (an RQ work horse has a process group of its own)."""
        return descendants(self.popen.pid) if self.alive() and self.popen else []

    def kill(self) -> None:
        """SIGKILL the process, its group and every descendant (its work horse too):
        what a crashed machine does to it."""
        self.expected_down = True
        family = self.family()
        self.signal_group(signal.SIGKILL)
        _kill_all(family)
        self.seen.update(family)
        if self.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=10)

    def stop(self, timeout: float = 15.0) -> None:
        self.expected_down = True
        if self.popen is None:
            return
        family = self.family()
        self.seen.update(family)
        if self.popen.poll() is None:
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        self.signal_group(signal.SIGKILL)  # stragglers in the group (gunicorn workers, ...)
        _kill_all(pid for pid in family if pid in _living())
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@dataclass
class ShopInfo:
    id: int
    name: str
    mww_token: str
    eb_username: str
    eb_code1: str = field(repr=False)
    eb_code2: str = field(repr=False)
    webhook_key: str = ""
    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)
    eb_api_token: str = field(default="", repr=False)  # set: the shop books through REST

    @property
    def eb_api(self) -> str:
        return "rest" if self.eb_api_token else "soap"


# SOAP operation → the REST simulator's operation, for faults aimed at "eb".
REST_OPERATIONS = {
    "AddMutatie": "create_mutation",
    "GetMutaties": "get_mutations",
    "AddRelatie": "create_relation",
    "GetRelaties": "get_relations",
    "UpdateRelatie": "update_relation",
    "OpenSession": "session",
    "CloseSession": "end_session",
    "GetGrootboekrekeningen": "get_ledgers",
    "GetAdministraties": "get_administrations",
}

_LIVE: list[Stack] = []


def _stop_all_at_exit() -> None:
    for stack in list(_LIVE):
        with contextlib.suppress(Exception):
            stack.stop()


atexit.register(_stop_all_at_exit)


def _stop_quietly(proc: Proc) -> None:
    with contextlib.suppress(Exception):
        proc.stop()


class Stack:
    """The system under test. See the module docstring."""

    def __init__(
        self,
        name: str,
        *,
        workers: int = 2,
        web: bool = True,
        clock: bool = True,
        simulators: bool = True,
        shops: int = 1,
        latency: float = 0.0,
        web_concurrency: int = 2,
        env: dict[str, str] | None = None,
        supervise: bool = False,
        extra_web: dict[str, str] | None = None,
        keep_logs: bool = False,
        eb_apis: str = "soap",
        pg_admin_url: str = PG_ADMIN_URL,
    ) -> None:
        """``extra_web``: more gunicorn servers, name → ``module:factory()`` app spec,
        started with the same Procfile command and config (the intake baseline).
        ``pg_admin_url``: the PostgreSQL server to make the database on (a private one
        that a test may crash and restart; tests/chaos/postgres.py)."""
        self.pg_admin_url = pg_admin_url
        self.name = name
        if eb_apis not in ("soap", "rest", "mixed"):
            raise ValueError(f"eb_apis must be soap, rest or mixed, not {eb_apis!r}")
        self.eb_apis = eb_apis
        self.n_workers, self.with_web, self.with_clock = workers, web, clock
        self.with_simulators, self.n_shops, self.latency = simulators, shops, latency
        self.web_concurrency = web_concurrency
        self.extra_env = dict(env or {})
        self.extra_web = dict(extra_web or {})
        self.supervise = supervise
        self.keep_logs = keep_logs
        self.run_dir = Path(tempfile.mkdtemp(prefix=f"mww-{name}-"))
        # Apart from other checkouts (TEST_DB_SUFFIX) and other pytest-xdist workers.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        self.db_name = (
            f"mww_{name}".replace("-", "_")
            + os.environ.get("TEST_DB_SUFFIX", "")
            + (f"_{worker}" if worker else "")
        )
        self.database_url = ""
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.web_port = free_port()
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        self.extra_ports = {key: free_port() for key in self.extra_web}
        self.mww_port, self.eb_port = free_port(), free_port()
        self.mww_url = f"http://127.0.0.1:{self.mww_port}"
        self.eb_base = f"http://127.0.0.1:{self.eb_port}"
        self.eb_soap_url = f"{self.eb_base}/soap.asmx"
        self.rest_port = free_port()
        self.rest_base = f"http://127.0.0.1:{self.rest_port}"
        self.secret_key = secrets.token_urlsafe(32)
        self.metrics_token = secrets.token_urlsafe(24)  # /metrics needs it in production
        from cryptography.fernet import Fernet

        self.encryption_key = Fernet.generate_key().decode()
        self.shops: list[ShopInfo] = []
        self.procs: dict[str, Proc] = {}
        self.counters: dict[str, int] = {"unexpected_restarts": 0}
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._started = False
        self._http = requests.Session()
        self._services: Any = None

    # -- environment -----------------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in APP_VARS}
        env.update(
            {
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                "APP_ENV": "production",
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "SECRET_KEY": self.secret_key,
                "METRICS_TOKEN": self.metrics_token,
                "ENCRYPTION_KEY": self.encryption_key,
                "PUBLIC_BASE_URL": self.web_url,
                "PORT": str(self.web_port),
                "BIND_HOST": "127.0.0.1",
                "WEB_CONCURRENCY": str(self.web_concurrency),
                "PROMETHEUS_MULTIPROC_DIR": str(self.run_dir / "metrics"),
                "MIJNWEBWINKEL_API_URL": self.mww_url,
                "EBOEKHOUDEN_SOAP_URL": self.eb_soap_url,
                "EBOEKHOUDEN_REST_URL": self.rest_base,
                "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
                "LOG_FORMAT": "json",
            }
        )
        env.update(self.extra_env)
        return env

    def procfile(self) -> dict[str, str]:
        from honcho.environ import parse_procfile

        return dict(parse_procfile((ROOT / "Procfile").read_text()).processes)

    # -- start / stop ----------------------------------------------------------------

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Stack:
        if self._started:
            return self
        self._started = True
        _LIVE.append(self)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        (self.run_dir / "metrics").mkdir(parents=True, exist_ok=True)
        self.start_redis()
        self.database_url = fresh_database(self.db_name, self.pg_admin_url)
        from app.migrate import upgrade

        upgrade(self.database_url)
        if self.n_shops:
            self._make_shops()
        if self.with_simulators:
            self._start_simulators()
        if self.with_web:
            self.start_web()
        for key, spec in self.extra_web.items():
            self.start_web(key, spec)
        for index in range(self.n_workers):
            self.start_worker(index)
        if self.with_clock:
            self.start_clock()
        if self.n_workers:
            self.wait_for_workers(self.n_workers)
        if self.supervise:
            self._supervisor = threading.Thread(
                target=self._supervise, name="stack-supervisor", daemon=True
            )
            self._supervisor.start()

    def stop(self) -> list[int]:
        """Stop everything; returns the pids still alive afterwards (should be [])."""
        self._stopping.set()
        if self._supervisor is not None and self._supervisor is not threading.current_thread():
            self._supervisor.join(timeout=5)
        for role in ("clock", "worker", "web", "sims", "redis"):  # a role's processes at once
            stoppers = [
                threading.Thread(target=_stop_quietly, args=(proc,), name=f"stop-{proc.name}")
                for proc in self.procs.values()
                if proc.role == role
            ]
            for thread in stoppers:
                thread.start()
            for thread in stoppers:
                thread.join()
        if self._services is not None:
            with contextlib.suppress(Exception):
                self._services.close()
                self._services.engine.dispose()
            self._services = None
        pgids = set().union(*(p.pgids for p in self.procs.values())) if self.procs else set()
        seen = set().union(*(p.seen for p in self.procs.values())) if self.procs else set()
        left = sorted(living_in_groups(pgids) | (seen & _living()))
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.database_url:
            with contextlib.suppress(Exception):
                drop_database(self.db_name, self.pg_admin_url)
            self.database_url = ""
        self._http.close()
        if self in _LIVE:
            _LIVE.remove(self)
        if not self.keep_logs:
            shutil.rmtree(self.run_dir, ignore_errors=True)
        return left

    def _spawn(
        self, name: str, argv: list[str], role: str, env: dict[str, str] | None = None
    ) -> Proc:
        proc = Proc(name, argv, env or self.env, self.run_dir / f"{name}.log", role)
        self.procs[name] = proc
        return proc.start()

    def _wait_port(self, proc: Proc, port: int, timeout: float = 60.0) -> None:
        def ready() -> bool:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited during start-up:\n{proc.tail()}")
            return port_open(port)

        wait_until(ready, timeout, f"{proc.name} on port {port}")

    # -- redis -----------------------------------------------------------------------

    def start_redis(self) -> Proc:
        binary = redis_server_binary()
        if binary is None:
            raise RuntimeError("redis-server is not on PATH")
        data = self.run_dir / "redis"
        data.mkdir(exist_ok=True)
        proc = self._spawn(
            "redis",
            [
                binary,
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(data),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            "redis",
        )
        self._wait_port(proc, self.redis_port, 20)
        return proc

    def restart_redis(self) -> None:
        """SIGKILL Redis and start an empty one on the same port: every key is lost
        (queue, scheduled retries, booked set, relation cache, sessions, webhook ids)."""
        self.procs["redis"].kill()
        wait_until(lambda: not port_open(self.redis_port), 10, "Redis to go away")
        self.start_redis()
        self.counters["redis_restarts"] = self.counters.get("redis_restarts", 0) + 1

    def redis(self) -> Any:
        from redis import Redis

        return Redis.from_url(self.redis_url)

    # -- simulators and shops ----------------------------------------------------------

    def _make_shops(self) -> None:
        for index in range(self.n_shops):
            n = index + 1
            rest = self.eb_apis == "rest" or (self.eb_apis == "mixed" and index % 2 == 1)
            self.shops.append(
                ShopInfo(
                    id=0,
                    name=f"Winkel {n}",
                    mww_token=f"tok-{n}-{secrets.token_hex(8)}",
                    eb_username=f"boekhouder{n}",
                    eb_code1=secrets.token_hex(10),
                    eb_code2=f"{secrets.token_hex(4).upper()}-{secrets.token_hex(2).upper()}",
                    eb_api_token=f"api{n}-{secrets.token_hex(16)}" if rest else "",
                )
            )
        self._register_shops()

    def _register_shops(self) -> None:
        from app.crypto import Vault
        from app.states import ShopStatus
        from app.store.engine import engine_for
        from app.store.shops import Credentials, ShopStore, webhook_url

        engine = engine_for(self.database_url)
        store = ShopStore(engine, Vault(self.encryption_key))
        for shop in self.shops:
            creds = Credentials(
                shop.mww_token, shop.eb_username, shop.eb_code1, shop.eb_code2, shop.eb_api_token
            )
            shop.id, shop.webhook_secret = store.register(
                name=shop.name, credentials=creds, status=ShopStatus.ACTIVE
            )
            loaded = store.get(shop.id)
            assert loaded is not None
            shop.webhook_key = loaded.webhook_key
            shop.webhook_url = webhook_url(self.web_url, loaded.webhook_key)
        engine.dispose()

    def _start_simulators(self) -> None:
        argv = [
            sys.executable,
            "-m",
            "sandbox",
            "--mww-port",
            str(self.mww_port),
            "--eb-port",
            str(self.eb_port),
            "--eb-rest-port",
            str(self.rest_port),
            "--latency",
            str(self.latency),
        ]
        for shop in self.shops:
            argv += [
                "--shop",
                f"{shop.mww_token}:{shop.name}",
                "--admin",
                f"{shop.eb_username}:{shop.eb_code1}:{shop.eb_code2}",
            ]
            if shop.eb_api_token:
                argv += ["--eb-token", shop.eb_api_token]
        proc = self._spawn("sims", argv, "sims")
        for port in (self.mww_port, self.eb_port, self.rest_port):
            self._wait_port(proc, port)

    def add_orders(self, shop: ShopInfo, orders: list[dict[str, Any]]) -> None:
        """Store orders (spec shape) in the Mijnwebwinkel simulator, in chunks."""
        for start in range(0, len(orders), 500):
            answer = self._http.post(
                f"{self.mww_url}/_sandbox/shops/{shop.mww_token}/orders",
                json={"orders": orders[start : start + 500]},
                timeout=120,
            )
            answer.raise_for_status()

    def sim_orders(self, shop: ShopInfo) -> list[dict[str, Any]]:
        answer = self._http.get(
            f"{self.mww_url}/_sandbox/shops/{shop.mww_token}/orders", timeout=120
        )
        answer.raise_for_status()
        return list(answer.json())

    def eb_state(self) -> dict[str, Any]:
        """The SOAP simulator's state (``rest_state`` for the REST one)."""
        answer = self._http.get(f"{self.eb_base}/_sandbox/state", timeout=120)
        answer.raise_for_status()
        return dict(answer.json())

    def rest_state(self) -> dict[str, Any]:
        answer = self._http.get(f"{self.rest_base}/_sandbox/state", timeout=120)
        answer.raise_for_status()
        return dict(answer.json())

    def eb_admin(
        self, shop: ShopInfo, soap: dict[str, Any] | None = None, rest: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """One shop's administration, whichever simulator holds it: ``calls`` by
        operation and ``mutations`` in SOAP's field names (``Soort``, ``MutatieNr``,
        ``Factuurnummer``, ``MutatieRegels[].BedragInclBTW``). Pass states to reuse them."""
        if shop.eb_api == "soap":
            admin = (soap or self.eb_state())["administrations"][shop.eb_username]
            return {"calls": admin["calls"], "mutations": admin["mutations"]}
        from app.clients.eboekhouden_rest.wire import SOORT_BY_TYPE
        from sandbox.eboekhouden_rest import token_id

        admin = (rest or self.rest_state())["administrations"][token_id(shop.eb_api_token)]
        mutations = [
            {
                "Soort": SOORT_BY_TYPE[m["type"]],
                "MutatieNr": m["id"],
                "Factuurnummer": m.get("invoiceNumber") or "",
                "MutatieRegels": [
                    {
                        "BedragInclBTW": str(
                            row["amount"] + (row["vatAmount"] if m["inExVat"] == "EX" else 0)
                        )
                    }
                    for row in m["rows"]
                ],
            }
            for m in admin["mutations"]
        ]
        return {"calls": admin["calls"], "mutations": mutations}

    def faults(self, system: str, spec: dict[str, Any]) -> dict[str, Any]:
        """``Faults.configure(spec)`` on ``"mww"`` or ``"eb"``; returns the snapshot.
        ``"eb"`` means both e-Boekhouden simulators (SOAP operation names are translated
        for REST); the SOAP one's snapshot is returned."""
        base = self.mww_url if system == "mww" else self.eb_base
        if system == "eb" and self.with_simulators:
            rest_spec = {
                **spec,
                "add": [
                    {**f, "operation": REST_OPERATIONS.get(f["operation"], f["operation"])}
                    if f.get("operation")
                    else dict(f)
                    for f in spec.get("add", [])
                ],
            }
            self._http.post(
                f"{self.rest_base}/_sandbox/faults", json=rest_spec, timeout=30
            ).raise_for_status()
        answer = self._http.post(f"{base}/_sandbox/faults", json=spec, timeout=30)
        answer.raise_for_status()
        return dict(answer.json())

    def fault_snapshot(self, system: str) -> dict[str, Any]:
        if system == "mww":
            answer = self._http.get(f"{self.mww_url}/_sandbox/faults", timeout=30)
            answer.raise_for_status()
            return dict(answer.json())
        return dict(self.eb_state()["faults"])

    def expire_eb_sessions(self) -> int:
        expired = 0
        for base in (self.eb_base, self.rest_base):
            answer = self._http.post(f"{base}/_sandbox/sessions/expire", json={}, timeout=30)
            answer.raise_for_status()
            expired += int(answer.json()["expired"])
        return expired

    # -- the Procfile's processes ----------------------------------------------------

    def start_web(self, key: str = "web", app_spec: str | None = None) -> Proc:
        argv = shlex.split(self.procfile()["web"])
        port = self.web_port
        env = None
        if app_spec is not None:  # same command and config, another WSGI app
            argv = [app_spec if a == "app:create_app()" else a for a in argv]
            port = self.extra_ports[key]
            env = {**self.env, "PORT": str(port)}
        proc = self._spawn(key, argv, "web", env)
        self._wait_port(proc, port, 60)
        if app_spec is None:
            wait_until(
                lambda: self._http.get(f"{self.web_url}/healthz", timeout=5).status_code == 200,
                30,
                "/healthz",
            )
        return proc

    def url_of(self, key: str) -> str:
        return self.web_url if key == "web" else f"http://127.0.0.1:{self.extra_ports[key]}"

    def start_worker(self, index: int) -> Proc:
        argv = shlex.split(self.procfile()["worker"])
        return self._spawn(f"worker.{index + 1}", argv, "worker")

    def start_clock(self, index: int = 0) -> Proc:
        """The Procfile's clock; ``index`` > 0 starts another one beside it (the clock is
        safe to run twice)."""
        name = "clock" if index == 0 else f"clock.{index + 1}"
        return self._spawn(name, shlex.split(self.procfile()["clock"]), "clock")

    def workers(self) -> list[Proc]:
        return [p for name, p in sorted(self.procs.items()) if p.role == "worker"]

    def wait_for_workers(self, count: int, timeout: float = 60.0) -> None:
        from rq import Worker

        def registered() -> bool:
            for proc in self.workers():
                if not proc.alive() and not proc.expected_down:
                    raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
            return len(Worker.all(connection=self.redis())) >= count

        wait_until(registered, timeout, f"{count} RQ workers", interval=0.2)

    def kill_worker(self, index: int, restart: bool = True) -> None:
        """SIGKILL worker ``index`` with its work horse; start a new one if asked."""
        proc = self.procs[f"worker.{index + 1}"]
        proc.kill()
        self.counters["worker_sigkills"] = self.counters.get("worker_sigkills", 0) + 1
        if restart:
            proc.start()

    def horse_pids(self, index: int) -> list[int]:
        """The RQ work horse(s) of worker ``index``: children in a process group of their
        own (the RQ scheduler, also a child, stays in the worker's group)."""
        proc = self.procs[f"worker.{index + 1}"]
        table = _proc_table()
        return [
            pid
            for pid in proc.family()
            if pid in table and table[pid][1] == pid and table[pid][0] == proc.pid
        ]

    def _supervise(self) -> None:
        """Like a dyno manager: a process that died unexpectedly is started again."""
        while not self._stopping.wait(0.5):
            for proc in list(self.procs.values()):
                if (
                    proc.role in ("worker", "clock", "web")
                    and not proc.expected_down
                    and not proc.alive()
                    and not self._stopping.is_set()
                ):
                    proc.start()
                    self.counters["unexpected_restarts"] += 1
                    self.counters[f"restarted:{proc.name}"] = (
                        self.counters.get(f"restarted:{proc.name}", 0) + 1
                    )

    # -- talking to the system ----------------------------------------------------------

    def notify(
        self,
        shop: ShopInfo,
        number: str,
        *,
        session: requests.Session | None = None,
        msg_id: str | None = None,
        timeout: float = 10.0,
    ) -> requests.Response:
        body = json.dumps({"order_number": number}).encode()
        headers = signed_headers(shop.webhook_secret, body, msg_id=msg_id)
        return (session or self._http).post(
            shop.webhook_url, data=body, headers=headers, timeout=timeout
        )

    def services(self) -> Any:
        """``app.services.Services`` in this process, configured like the processes."""
        if self._services is None:
            from app.config import Settings
            from app.services import build_services

            self._services = build_services(Settings.from_env(self.env))
        return self._services

    def metrics_text(self) -> str:
        answer = self._http.get(
            f"{self.web_url}/metrics",
            timeout=30,
            headers={"Authorization": f"Bearer {self.metrics_token}"},
        )
        answer.raise_for_status()  # a refused scrape must not read as "no samples"
        return answer.text

    def logs(self) -> dict[str, str]:
        return {name: proc.tail(20000) for name, proc in self.procs.items()}
