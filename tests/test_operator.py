"""The operator's path (issue 27): every setting documented where an operator looks for it,
``--help`` on every entry point (and a help text on every option), Dokku's health check
in app.json, the Heroku button, the Let's Encrypt steps, and make run's own helpers (the
port when 5000 is taken, the run's addresses in .env, the banner that comes back)."""

from __future__ import annotations

import ast
import json
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import click
import pytest

from app import create_app
from app.config import Settings

ROOT = Path(__file__).resolve().parents[1]
# Read outside Settings, by the processes themselves (gunicorn, the worker, metrics).
PROCESS_SETTINGS = {
    "PORT",
    "WEB_CONCURRENCY",
    "WEB_THREADS",
    "WORKER_MODE",
    "PROMETHEUS_MULTIPROC_DIR",
}
# Set by the platform or its add-ons, not in the app.json form.
PLATFORM_SET = {"DATABASE_URL", "REDIS_URL", "PORT"}


class Recording(Mapping[str, str]):
    """An empty environment that remembers every name asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return default

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def settings_read() -> set[str]:
    recording = Recording()
    Settings.from_env(recording)
    return recording.asked


def environ_reads() -> set[str]:
    """``os.environ.get("X")`` / ``os.environ["X"]`` in the service's code."""
    names = set()
    for part in ("app", "worker", "reconciler"):
        for path in (ROOT / part).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "get"
                    and ast.unparse(node.func.value) == "os.environ"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    names.add(node.args[0].value)
    return names - {"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"}  # requests' own


def test_settings_read_is_what_the_recorder_sees() -> None:
    """The recorder is not blind: it sees the settings every process needs."""
    assert {
        "DATABASE_URL",
        "SECRET_KEY",
        "ENCRYPTION_KEY",
        "EBOEKHOUDEN_REST_URL",
    } <= settings_read()
    assert {"WORKER_MODE", "WEB_THREADS"} <= environ_reads()


def test_env_example_names_every_setting() -> None:
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M)
    )
    missing = (settings_read() | environ_reads()) - documented
    assert missing == set(), f".env.example lacks {sorted(missing)}"


def test_app_json_and_the_readme_name_every_setting() -> None:
    names = settings_read() | environ_reads()
    in_app_json = set(json.loads((ROOT / "app.json").read_text())["env"])
    assert names - in_app_json - PLATFORM_SET - {"APP_ENV"} <= {"BIND_HOST"}, sorted(
        names - in_app_json - PLATFORM_SET
    )
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    missing = {name for name in names if f"`{name}`" not in table}
    assert missing <= {"BIND_HOST"}, f"README's configuration table lacks {sorted(missing)}"


def test_app_json_has_dokkus_health_check_on_the_real_endpoint() -> None:
    manifest = json.loads((ROOT / "app.json").read_text())
    (check,) = manifest["healthchecks"]["web"]
    assert check["type"] == "startup" and check["path"] == "/healthz"
    app = create_app(Settings())
    assert any(rule.rule == check["path"] for rule in app.url_map.iter_rules())
    # The content Dokku looks for is in a healthy answer and not in an unhealthy one.
    assert check["content"] in json.dumps({"status": "ok"}, separators=(",", ":"))
    assert check["content"] not in json.dumps({"status": "unavailable"})
    procfile = {
        line.split(":", 1)[0] for line in (ROOT / "Procfile").read_text().splitlines() if line
    }
    assert set(manifest["formation"]) == procfile - {"release"}


def test_readme_has_a_deploy_button_and_lets_encrypt_with_renewal() -> None:
    readme = (ROOT / "README.md").read_text()
    button = re.search(
        r"\[!\[Deploy to Heroku\]\(https://www\.herokucdn\.com/deploy/button\.svg\)\]"
        r"\((https://www\.heroku\.com/deploy\?template=https://github\.com/[\w.-]+/[\w.-]+)\)",
        readme,
    )
    assert button, "the Deploy to Heroku button with its template= link"
    for step in (
        "dokku plugin:install https://github.com/dokku/dokku-letsencrypt.git",
        "dokku letsencrypt:enable mww",
        "dokku letsencrypt:cron-job --add",
        "heroku features:enable preboot",
    ):
        assert step in readme, step


# --- --help on every entry point ----------------------------------------------------

ENTRY_POINTS = [
    ["-m", "worker"],
    ["-m", "reconciler"],
    ["-m", "app.migrate"],
    ["-m", "sandbox"],
    ["-m", "sandbox.run"],
    ["-m", "flask", "--app", "app"],
]


@pytest.mark.parametrize("command", ENTRY_POINTS, ids=lambda c: " ".join(c[1:3]))
def test_every_entry_point_answers_help_without_any_settings(command: list[str]) -> None:
    """No ENCRYPTION_KEY, no database, no Redis: --help still answers, and nothing is
    started (issue 27: `python -m worker --help` died with a traceback)."""
    env = {k: v for k, v in os.environ.items() if k not in ("ENCRYPTION_KEY", "SECRET_KEY")}
    env["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens: --help must not connect
    result = subprocess.run(
        [sys.executable, *command, "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage" in result.stdout.lower() and "Traceback" not in result.stderr


def test_the_worker_without_an_encryption_key_says_so_in_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ENCRYPTION_KEY"}
    env.update(APP_ENV="development", REDIS_URL="redis://127.0.0.1:1/0")
    result = subprocess.run(
        [sys.executable, "-m", "worker"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "ENCRYPTION_KEY is not set" in result.stderr and "Traceback" not in result.stderr


def _argparse_parsers() -> dict[str, Any]:
    import app.migrate
    import sandbox.run
    import sandbox.simulators
    import worker.__main__

    return {
        "worker": worker.__main__.parser(),
        "app.migrate": app.migrate.parser(),
        "sandbox": sandbox.simulators.parser(),
        "sandbox.run": sandbox.run.parser(),
    }


def test_every_argparse_option_has_a_help_text() -> None:
    missing = [
        f"{name} {action.dest}"
        for name, parser in _argparse_parsers().items()
        for action in parser._actions
        if action.dest != "help" and not action.help
    ]
    assert missing == [], missing


def _commands(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None:
            continue
        yield f"{prefix}{name}", command
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix}{name} ")


def test_every_flask_command_and_option_is_explained() -> None:
    app = create_app(Settings())
    ours = {"report", "reconcile", "preview", "book", "shops", "keys", "users"}
    found = []
    for name, command in _commands(app.cli):
        if name.split()[0] not in ours:
            continue  # Flask's own (run, shell, routes)
        found.append(name)
        assert (command.help or "").strip(), f"flask {name} has no help"
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert (param.help or "").strip(), f"flask {name} {param.opts[0]} has no help"
    assert {"book", "report", "shops add", "users create"} <= set(found)


# --- make run's helpers ----------------------------------------------------------------


def test_make_run_picks_a_free_port_when_5000_is_taken() -> None:
    from sandbox.runtime import choose_port

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        port, note = choose_port(None, default=busy)
        assert port != busy and f"port {busy} is taken" in note and str(port) in note
        with pytest.raises(SystemExit, match=f"PORT={busy} is already in use"):
            choose_port(str(busy))
    port, note = choose_port(None, default=busy)  # free again
    assert (port, note) == (busy, "")


def test_make_run_writes_its_addresses_into_env_and_takes_them_out(tmp_path: Path) -> None:
    from sandbox.runtime import BLOCK_START, RunBlock

    env_file = tmp_path / ".env"
    env_file.write_text("SECRET_KEY=abc\n")
    block = RunBlock(env_file)
    block.write({"REDIS_URL": "redis://127.0.0.1:6390/0", "MIJNWEBWINKEL_API_URL": "http://x"})
    block.write({"REDIS_URL": "redis://127.0.0.1:6391/0"})  # a new run replaces the block
    text = env_file.read_text()
    assert text.count(BLOCK_START) == 1 and "6391" in text and "6390" not in text
    assert text.startswith("SECRET_KEY=abc\n")
    from dotenv import dotenv_values  # what `flask` reads

    assert dotenv_values(env_file)["REDIS_URL"] == "redis://127.0.0.1:6391/0"
    block.strip()
    assert env_file.read_text() == "SECRET_KEY=abc\n"


def test_the_banner_waits_for_the_web_and_comes_back() -> None:
    from sandbox.runtime import Banner

    events: list[str] = []
    done = threading.Event()

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            events.append("web answered")
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"status":"ok"}')

        def log_message(self, *args: Any) -> None:
            pass

    def out(text: str) -> None:
        events.append(text)
        if events.count("REMINDER") >= 2:
            done.set()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    banner = Banner("FULL", "REMINDER", f"http://127.0.0.1:{port}/healthz", 0.05, out)
    banner.start()  # nothing listens yet: it keeps asking
    server = HTTPServer(("127.0.0.1", port), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert done.wait(10)
    finally:
        banner.close()
        server.shutdown()
        server.server_close()
    printed = [e for e in events if e != "web answered"]
    assert events.index("web answered") < events.index("FULL")  # below the start-up lines
    assert printed[:3] == ["FULL", "REMINDER", "REMINDER"]


def _make_run_env(tmp_path: Path) -> dict[str, str]:
    from app.crypto import generate_key

    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'connector.db'}",
        "ENCRYPTION_KEY": generate_key(),
        "SANDBOX_ADMIN_EMAIL": "admin@sandbox.local",
        "SANDBOX_ADMIN_PASSWORD": "een-lang-wachtwoord",
        "SANDBOX_SHOP_TOKEN": "sbx-token",
        "SANDBOX_EB_USERNAME": "sandbox-boekhouder",
        "SANDBOX_EB_CODE1": "code1",
        "SANDBOX_EB_CODE2": "code2",
        "SANDBOX_EB_API_TOKEN": "sbx-api-token",
    }


def test_make_run_keeps_the_simulators_while_the_sandbox_shop_exists(tmp_path: Path) -> None:
    """Issue 27: a second make run after another shop was connected starts the simulators
    again (the sandbox shop is there) and says the other shop talks to them; with only
    real shops it starts none and says so plainly."""
    from app.config import Settings
    from app.crypto import Vault
    from app.store import Store
    from app.store.engine import engine_for
    from app.store.shops import Credentials
    from sandbox.run import banner, prepare_sandbox_shop

    env = _make_run_env(tmp_path)
    first = prepare_sandbox_shop(env)  # a fresh database: the sandbox shop is made
    assert first.present and first.others == []
    settings = Settings.from_env(env)
    store = Store(engine_for(settings.database_url), Vault(settings.encryption_key))
    store.shops.register(name="Echte winkel", credentials=Credentials("t", eb_api_token="a"))
    second = prepare_sandbox_shop(env)
    assert second.present and second.others == ["Echte winkel"]
    env.update(
        MIJNWEBWINKEL_API_URL="http://127.0.0.1:1",
        EBOEKHOUDEN_REST_URL="http://127.0.0.1:2",
    )
    text, reminder = banner(env, 5001, second)
    assert "every shop talks to the simulators here, also Echte winkel" in text
    assert "admin@sandbox.local" in reminder and "http://127.0.0.1:5001/" in reminder

    (sandbox,) = [s for s in store.shops.all() if s.name == "Sandbox-winkel"]
    from app.store.db import shops

    with store.shops.engine.begin() as conn:
        conn.execute(shops.delete().where(shops.c.id == sandbox.id))
    only_real = prepare_sandbox_shop(env)
    assert not only_real.present and only_real.others == ["Echte winkel"]
    text, _ = banner(env, 5001, only_real)
    assert "none: no simulators in this run" in text
    assert "talk to the real Mijnwebwinkel and e-Boekhouden.nl" in text
