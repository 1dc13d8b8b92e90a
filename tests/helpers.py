"""Shared test helpers (not fixtures): imported by test modules and by conftest."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import redis as redislib
import requests
from sqlalchemy import create_engine, text, update
from standardwebhooks.webhooks import Webhook

from app.clients.eboekhouden import EBoekhoudenClient
from app.clients.mijnwebwinkel import MijnwebwinkelClient
from app.config import Settings
from app.crypto import Vault, generate_key
from app.fastpaths import SessionStore
from app.jobs.queue import booking_key, get_queue
from app.services import Services, real_bookkeeping_factory
from app.states import EbApi, ShopStatus
from app.store import db
from app.store.booking_records import BookingRecord
from app.store.db import bookings
from app.store.engine import engine_for, transaction
from app.store.shops import Credentials, Shop
from sandbox.eboekhouden import EBoekhoudenSimulator
from sandbox.mijnwebwinkel import MijnwebwinkelSimulator
from sandbox.order_factory import make_order
from sandbox.server import ServerThread

PG_ADMIN_URL = os.environ.get(
    "TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


# Parallel checkouts on one machine set TEST_DB_SUFFIX (and TEST_REDIS_URL) to keep apart.
# Under pytest-xdist every worker (gw0, gw1, ...) keeps apart on top of that: its own
# PostgreSQL databases (suffix ``_gw1``) and its own Redis database (below).
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


DB_SUFFIX = os.environ.get("TEST_DB_SUFFIX", "") + (f"_{XDIST_WORKER}" if XDIST_WORKER else "")


PG_TEST_DB = "mww_connector_test"


def worker_redis_url(base: str, worker: str) -> str:
    """The Redis URL of xdist worker ``worker`` (``""``: no xdist): ``base``'s database
    number minus the worker's index, so the default (15) gives gw0 15 and gw1 14, and
    ``TEST_REDIS_URL=redis://127.0.0.1:6379/3`` gives 3 and 2. Each worker's tests flush
    only their own database; a database below 0 is refused (choose a higher base)."""
    if not worker:
        return base
    index = int(worker.removeprefix("gw"))
    head, _, tail = base.partition("?")
    root, _, db = head.rstrip("/").rpartition("/")
    if not root.startswith("redis") or not db.isdigit():  # no database in the URL: 0
        root, db = head.rstrip("/"), "0"
    number = int(db) - index
    if number < 0:
        raise RuntimeError(
            f"TEST_REDIS_URL {base} leaves no Redis database for xdist worker {worker}: "
            f"give it a database number of at least {index} (each worker uses its own, "
            "counting down)"
        )
    return f"{root}/{number}" + (f"?{tail}" if tail else "")


REDIS_URL = worker_redis_url(
    os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"), XDIST_WORKER
)


# tests/conftest.py registers the profiles: "suite" (derandomized) and "explore".
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "suite")


def examples(count: int) -> int:
    """A property test's number of examples: ``count`` in the suite, ten times as many in
    the exploratory profile (``make chaos``)."""
    return count * 10 if HYPOTHESIS_PROFILE == "explore" else count


def _pg_available() -> bool:
    if os.environ.get("TEST_BACKENDS") == "embedded":
        return False
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def _redis_available() -> bool:
    if os.environ.get("TEST_BACKENDS") == "embedded":
        return False
    try:
        return bool(redislib.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


PG_AVAILABLE = _pg_available()


REDIS_AVAILABLE = _redis_available()


SERVICES_AVAILABLE = PG_AVAILABLE and REDIS_AVAILABLE


def fresh_pg_database(name: str) -> str:
    """(Re)create database ``name`` (+ ``TEST_DB_SUFFIX``) and return its URL."""
    name += DB_SUFFIX
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
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
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@dataclass
class Backend:
    name: str
    database_url: str
    redis: redislib.Redis


def _truncate(url: str) -> None:
    engine = engine_for(url)
    with engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


BACKENDS = ["embedded", "services"]


MWW_TOKEN = "shop-token-1234567890"


EB_USER = "winkelier"


EB_CODE1 = "code-one-secret"


EB_CODE2 = "0B5A7C1E-1111-2222-3333-444455556666"


class Switch:
    """One loopback server per test module whose WSGI app each test plugs in (cheaper than
    a server per test)."""

    def __init__(self) -> None:
        self.app: Any = None
        self.server: ServerThread | None = None
        self.url = ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        assert self.app is not None, "plug an app into the switch first"
        return self.app(environ, start_response)


@dataclass
class World:
    """A connected shop: our services, both simulators, and the shop on each side."""

    services: Services
    settings: Settings
    mww: MijnwebwinkelSimulator
    eb: EBoekhoudenSimulator
    mww_url: str
    eb_url: str
    shop: Shop
    webhook_secret: str

    @property
    def sim_shop(self) -> Any:
        return self.mww.shop(MWW_TOKEN)

    def add_order(
        self, number: int, *, kind: str = "domestic", status: int = 3, **kw: Any
    ) -> dict[str, Any]:
        order = make_order(
            number, kind=kind, status=status, date=kw.pop("date", dt.date(2026, 11, 2)), **kw
        )
        return self.sim_shop.add_order(order)

    def mutations(self) -> list[dict[str, Any]]:
        return self.eb.mutations(EB_USER)

    def mutations_for(self, number: int | str) -> list[dict[str, Any]]:
        return [m for m in self.mutations() if m.get("Factuurnummer") == str(number)]

    def reload_shop(self) -> Shop:
        shop = self.services.load_shop(self.shop.id)
        assert shop is not None
        self.shop = shop
        return shop


def make_world(backend: Backend, mww_server: Any, eb_server: Any) -> Iterator[World]:
    mww, mww_thread = mww_server
    eb, eb_thread = eb_server
    mww.faults.clear()
    mww.shops.clear()
    mww.calls.clear()
    mww.add_shop(MWW_TOKEN, name="Testwinkel")
    eb.faults.clear()
    eb.reset()
    settings = Settings(
        database_url=backend.database_url,
        redis_url="redis://unused",
        secret_key="test",
        encryption_key=generate_key(),
        public_base_url="http://connector.test",
        mijnwebwinkel_api_url=mww_thread.url,
        eboekhouden_soap_url=f"{eb_thread.url}/soap.asmx",
        http_timeout=2.0,
        soap_operation_timeout=2.0,
    )
    redis = backend.redis
    vault = Vault(settings.encryption_key)

    def shop_api(shop: Shop) -> MijnwebwinkelClient:
        return MijnwebwinkelClient(
            shop.credentials.mww_token,
            base_url=mww_thread.url,
            timeout=2.0,
            max_retries=2,
            backoff=0.01,
        )

    def bookkeeping(shop: Shop) -> EBoekhoudenClient:
        creds = shop.credentials
        return EBoekhoudenClient(
            creds.eb_username,
            creds.eb_code1,
            creds.eb_code2,
            url=settings.eboekhouden_soap_url,
            timeout=2.0,
            operation_timeout=2.0,
            session_store=SessionStore(redis, shop.id, creds.eb_username, vault),
        )

    services = Services(
        settings=settings,
        engine=engine_for(backend.database_url),
        redis=redis,
        vault=vault,
        queue=get_queue(redis, settings.queue_name),
        shop_api_factory=shop_api,
        bookkeeping_factory=bookkeeping,
    )
    shop_id, secret = services.store.shops.register(
        name="Testwinkel",
        status=ShopStatus.ACTIVE,
        credentials=Credentials(MWW_TOKEN, EB_USER, EB_CODE1, EB_CODE2),
    )
    shop = services.load_shop(shop_id)
    assert shop is not None
    yield World(services, settings, mww, eb, mww_thread.url, eb_thread.url, shop, secret)
    services.close()


def booking_row(world: World, number: int | str) -> BookingRecord:
    row = world.services.store.bookings.get(world.shop.id, str(number))
    assert row is not None
    return row


def expire_lease(world: World, number: int | str) -> None:
    row = booking_row(world, number)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)

    with transaction(world.services.engine) as conn:
        conn.execute(update(bookings).where(bookings.c.id == row.id).values(claimed_until=past))


def signed_headers(
    secret: str,
    body: bytes,
    *,
    msg_id: str | None = None,
    at: dt.datetime | None = None,
    extra_sigs: tuple[str, ...] = (),
) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = at or dt.datetime.now(dt.UTC)
    signature = Webhook(secret).sign(msg_id, at, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join((*extra_sigs, signature)),
        "Content-Type": "application/json",
    }


class OwnRedis:
    """A redis-server of the test's own on a free port (never the shared one), that the
    test can kill and start again on the same port, empty (like a restart of a Redis
    without persistence)."""

    def __init__(self, directory: Any) -> None:
        import shutil
        import socket

        binary = shutil.which("redis-server")
        if binary is None:
            import pytest

            pytest.skip("redis-server is not on PATH")
        self.binary, self.directory = binary, directory
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: Any = None

    def start(self) -> OwnRedis:
        import subprocess
        import time

        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redislib.Redis(port=self.port, socket_connect_timeout=0.5).ping():
                    return self
            except redislib.RedisError:
                time.sleep(0.05)
        raise RuntimeError("own redis-server did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def client(self) -> redislib.Redis:
        return redislib.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except requests.RequestException as err:
            last = err
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what} ({last})")


def descendants(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-eo", "pid=,ppid=,pgid="], capture_output=True, text=True)
    children: dict[int, list[int]] = {}
    for line in out.stdout.splitlines():
        child, parent, _ = (int(x) for x in line.split())
        children.setdefault(parent, []).append(child)
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def warm_up_bookkeeping(world: World, tries: int = 4) -> None:
    """The e-Boekhouden simulator builds its XML schema on its first SOAP request, which
    can outlast the tests' 2-second timeout on a busy machine: make that request first."""
    from app.errors import UpstreamUnavailableError

    for _ in range(tries):
        try:
            world.services.bookkeeping(world.shop).verify()
            return
        except UpstreamUnavailableError:
            continue


def booking_job_ids(queue: Any, shop_id: int, order_number: str) -> list[str]:
    """The ids of the order's booking jobs waiting in ``queue`` (each enqueue has its own)."""
    prefix = booking_key(shop_id, order_number) + "__"
    return [job_id for job_id in queue.get_job_ids() if job_id.startswith(prefix)]


def booking_jobs(queue: Any, shop_id: int, order_number: str) -> list[Any]:
    """The order's booking jobs wherever RQ keeps them now (queued, scheduled, running,
    finished or failed), oldest first."""
    from rq.job import Job

    prefix = booking_key(shop_id, order_number) + "__"
    registries = (
        queue.scheduled_job_registry,
        queue.started_job_registry,
        queue.finished_job_registry,
        queue.failed_job_registry,
    )
    ids = {*queue.get_job_ids(), *(i for r in registries for i in r.get_job_ids())}
    jobs = Job.fetch_many(
        sorted(i for i in ids if i.startswith(prefix)),
        connection=queue.connection,
        serializer=queue.serializer,
    )
    return sorted((j for j in jobs if j is not None), key=lambda j: j.created_at)


API_TOKEN = "rest-api-token-0123456789abcdef"  # the REST simulator's administration (rest_server)


def switch_to_rest(world: World, rest_url: str) -> None:
    """What "Gegevens" does when the owner fills in an API token."""
    settings = dataclasses.replace(world.settings, eboekhouden_rest_url=rest_url)
    world.services.bookkeeping_factory = real_bookkeeping_factory(settings, world.services.redis)
    creds = world.shop.credentials
    world.services.store.shops.update_connection(
        world.shop.id,
        name=world.shop.name,
        credentials=Credentials(
            creds.mww_token, creds.eb_username, creds.eb_code1, creds.eb_code2, API_TOKEN
        ),
    )
    world.reload_shop()
    assert world.shop.credentials.eb_api == EbApi.REST
