"""Deploys on a Procfile platform as it is (Heroku's Python buildpack, Dokku).

Fast checks: what the buildpack's detection and Python-version resolution accept (the
rules below follow heroku-buildpack-python's lib/package_manager.sh and
lib/python_version.sh), the lock files, app.json, and the release phase's refusal to run
without a usable ENCRYPTION_KEY.

The slow deploy test does what the platform does with a push: a clean ``git clone`` of
the committed HEAD (uncommitted changes in the working tree are not part of it), the
production lock installed into a fresh virtual environment the way the buildpack installs
it (``pip install -r requirements.txt``, no dev packages), then each Procfile process type
started from that environment with production settings against the local PostgreSQL and
Redis, and stopped with SIGTERM to its whole process group, as the platform does: each
must be gone within 30 s (the platform's limit before SIGKILL), losing no job.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import requests
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from app.config import REQUIRED_IN_PRODUCTION, Settings
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
STOP_LIMIT_SECONDS = 30  # Heroku (and our Dokku instructions): SIGKILL after 30 s
# The buildpack's own lists (lib/package_manager.sh, lib/python_version.sh).
PACKAGE_MANAGER_FILES = {
    "requirements.txt": "pip",
    "Pipfile.lock": "pipenv",
    "Pipfile": "pipenv",
    "poetry.lock": "poetry",
    "uv.lock": "uv",
}
PYTHON_VERSION_RE = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?$")
SUPPORTED_MINORS = range(10, 15)  # OLDEST/NEWEST_SUPPORTED_PYTHON_3_MINOR_VERSION
DEV_ONLY = {
    "pytest",
    "ruff",
    "mypy",
    "fakeredis",
    "hypothesis",
    "playwright",
    "import-linter",
    "uv",
    "openapi-schema-validator",
}
# Set by the add-ons app.json declares, not by hand.
FROM_ADDONS = {"DATABASE_URL": "heroku-postgresql", "REDIS_URL": "heroku-redis"}


# --- what the buildpack accepts -----------------------------------------------------


def package_manager(build_dir: Path) -> str:
    """lib/package_manager.sh: exactly one package manager file, else the build stops."""
    found = sorted(
        {manager for name, manager in PACKAGE_MANAGER_FILES.items() if (build_dir / name).is_file()}
    )
    assert len(found) == 1, f"the buildpack needs exactly one package manager, found {found}"
    return found[0]


def requested_python(build_dir: Path) -> str:
    """lib/python_version.sh: runtime.txt would win (and is refused with uv); then
    .python-version, one version of form N.N or N.N.N, comments and blank lines ignored."""
    assert not (build_dir / "runtime.txt").exists(), "runtime.txt overrides .python-version"
    lines = [
        line.strip()
        for line in (build_dir / ".python-version").read_text(encoding="utf-8").splitlines()
    ]
    versions = [line for line in lines if line and not line.startswith("#")]
    assert len(versions) == 1, versions
    match = PYTHON_VERSION_RE.match(versions[0])
    assert match, f"not a version the buildpack reads: {versions[0]!r}"
    assert int(match.group(1)) == 3 and int(match.group(2)) in SUPPORTED_MINORS
    return versions[0]


def locked_pins(path: Path) -> dict[str, str]:
    """name → version of every requirement in a hashed lock file."""
    pins: dict[str, str] = {}
    for block in re.split(r"\n(?=\S)", path.read_text()):
        found = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", block)
        if block.startswith("#") or not block.strip():
            continue
        assert found, f"not a pinned requirement in {path.name}: {block[:80]}"
        assert "--hash=sha256:" in block, f"{found[1]} is not pinned by hash in {path.name}"
        pins[canonicalize_name(found[1])] = found[2]
    return pins


@pytest.mark.integration  # git in a subprocess
def test_a_clean_checkout_passes_the_buildpacks_detection() -> None:
    assert package_manager(ROOT) == "pip"
    version = requested_python(ROOT)
    assert version == "3.11"  # major.minor: the buildpack takes the newest 3.11 patch release
    assert tuple(int(part) for part in version.split(".")[:2]) == sys.version_info[:2], (
        "the suite runs on the version the platform will run"
    )
    requires = SpecifierSet(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    )
    assert "3.11.0" in requires and "3.11.99" in requires
    assert "3.10.99" not in requires and "3.12.0" not in requires
    if shutil.which("git") and (ROOT / ".git").exists():
        tracked = subprocess.run(
            ["git", "ls-files", "requirements.txt", ".python-version", "Procfile", "app.json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.split()
        assert sorted(tracked) == sorted(
            ["requirements.txt", ".python-version", "Procfile", "app.json"]
        ), tracked


def test_the_lock_files_pin_everything_and_agree() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    production = locked_pins(ROOT / "requirements.txt")
    development = locked_pins(ROOT / "requirements-dev.txt")
    for line in project["project"]["dependencies"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in production, f"{name} is not in requirements.txt: run make lock"
        assert production[name] in requirement.specifier
    for line in project["dependency-groups"]["dev"]:
        assert canonicalize_name(Requirement(line).name) in development
    assert "optional-dependencies" not in project["project"]  # one place for dev tools
    differing = {
        name: (version, development.get(name))
        for name, version in production.items()
        if development.get(name) != version
    }
    assert not differing, f"development would not run production's versions: {differing}"
    assert not DEV_ONLY & set(production), "dev tools in the production install"


def test_app_json_describes_every_setting_and_works_on_a_fresh_app() -> None:
    manifest = json.loads((ROOT / "app.json").read_text())
    env = manifest["env"]
    read = set(re.findall(r'"([A-Z][A-Z0-9_]{2,})"', inspect.getsource(Settings.from_env)))
    read |= set(REQUIRED_IN_PRODUCTION) | {"APP_ENV", "WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR"}
    addons = " ".join(a["plan"] if isinstance(a, dict) else a for a in manifest["addons"])
    for name in sorted(read):
        if name in FROM_ADDONS:
            assert FROM_ADDONS[name] in addons and name not in env
            continue
        assert name in env, f"app.json does not declare {name}"
    for name, spec in env.items():
        assert len(spec.get("description", "")) > 10, f"{name} has no description"
        if name in REQUIRED_IN_PRODUCTION:
            assert spec.get("required", True) is True, f"{name} must be required"
        elif "value" not in spec and "generator" not in spec:
            assert spec.get("required") is False, (
                f"{name}: app.json variables are required unless marked otherwise"
            )
    assert env["SECRET_KEY"].get("generator") == "secret"
    key = env["ENCRYPTION_KEY"]
    assert "value" not in key and "generator" not in key  # not a Fernet key if generated
    assert "Fernet.generate_key()" in key["description"]
    assert env["APP_ENV"]["value"] == "production"
    procfile = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if ":" in line
    )
    assert set(manifest["formation"]) == set(procfile) - {"release"}
    assert all(f["quantity"] >= 1 for f in manifest["formation"].values())
    assert manifest["buildpacks"] == [{"url": "heroku/python"}]


IMPORT_EVERYTHING = """
import importlib, pkgutil
failed = []
for package in ("app", "worker", "reconciler", "sandbox"):
    for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        if not info.name.endswith("__main__"):
            try:
                importlib.import_module(info.name)
            except Exception as err:
                failed.append(f"{info.name}: {err!r}")
print(failed)
"""


def production_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "DATABASE_URL",
            "REDIS_URL",
            "SECRET_KEY",
            "ENCRYPTION_KEY",
            "PUBLIC_BASE_URL",
            "VIRTUAL_ENV",
            "PYTHONPATH",
        )
    }
    env.update(
        APP_ENV="production",
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
        REDIS_URL="redis://127.0.0.1:1/0",
        SECRET_KEY=secrets.token_hex(32),
        PUBLIC_BASE_URL="https://connector.example.nl",
    )
    env.update(extra)
    return env


@pytest.mark.integration  # the release command in a subprocess
@pytest.mark.parametrize("key", [None, "", "a-random-secret-not-a-fernet-key"])
def test_the_release_phase_refuses_to_start_without_a_usable_encryption_key(
    key: str | None,
) -> None:
    env = production_env() if key is None else production_env(ENCRYPTION_KEY=key)
    release = procfile_commands(ROOT)["release"]
    result = subprocess.run(
        ["bash", "-c", release],
        cwd=ROOT,
        env={**env, "PATH": f"{Path(sys.executable).parent}:{env['PATH']}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ENCRYPTION_KEY" in result.stderr
    assert "Fernet.generate_key()" in result.stderr  # says how to make one
    assert result.stderr.strip().count("\n") == 0  # one message, no traceback


# --- the deploy -------------------------------------------------------------------------


def procfile_commands(directory: Path) -> dict[str, str]:
    commands = {}
    for line in (directory / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            commands[name.strip()] = command.strip()
    return commands


def alive(pids: set[int]) -> set[int]:
    """The ones still running (not gone, not zombies); a pid may vanish while we look."""
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if state != "Z":
                living.add(pid)
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return living


class Dyno:
    """One Procfile process as the platform runs it: ``bash -c`` in its own process group,
    stopped with SIGTERM to every process in it."""

    def __init__(
        self, name: str, command: str, cwd: Path, env: dict[str, str], log_path: Path
    ) -> None:
        self.name, self.log_path = name, log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                ["bash", "-c", command],
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> float:
        """SIGTERM to the group; seconds until every process in it has exited."""
        family = descendants(self.process.pid) | {self.process.pid}
        started = time.monotonic()
        os.killpg(self.process.pid, signal.SIGTERM)
        deadline = started + STOP_LIMIT_SECONDS
        while time.monotonic() < deadline:
            self.process.poll()
            if not alive(family):
                break
            time.sleep(0.2)
        took = time.monotonic() - started
        if alive(family):
            for pid in alive(family):
                os.kill(pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            raise AssertionError(
                f"{self.name} still running {STOP_LIMIT_SECONDS} s after "
                f"SIGTERM:\n{self.log()[-3000:]}"
            )
        self.process.wait(timeout=5)
        assert self.process.returncode == 0, (
            f"{self.name} exited {self.process.returncode}:\n{self.log()[-3000:]}"
        )
        return took

    def kill(self) -> None:
        if self.running():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.skipif(
    not (PG_AVAILABLE and REDIS_AVAILABLE), reason="needs the local PostgreSQL and Redis"
)
@pytest.mark.skipif(
    not (shutil.which("git") and (ROOT / ".git").exists()), reason="needs a git checkout to clone"
)
def test_a_clean_clone_deploys_and_every_process_stops_within_30_seconds(tmp_path: Path) -> None:
    from cryptography.fernet import Fernet
    from redis import Redis
    from rq import Retry, Worker
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus
    from rq.serializers import JSONSerializer
    from sqlalchemy import create_engine, text

    from app.jobs.queue import BOOKING_RETRY_INTERVALS, get_queue

    # The push: committed HEAD only.
    app_dir = tmp_path / "app"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(app_dir)],
        check=True,
        timeout=120,
    )
    assert package_manager(app_dir) == "pip"
    assert requested_python(app_dir) == f"{sys.version_info[0]}.{sys.version_info[1]}"

    # The build: a fresh environment with the production lock and nothing else.
    fresh = tmp_path / "python"
    subprocess.run([sys.executable, "-m", "venv", str(fresh)], check=True, timeout=120)
    install_env = {
        k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    }
    install = subprocess.run(
        [
            str(fresh / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-r",
            "requirements.txt",
            "--exists-action=w",
            "--no-input",
            "--no-compile",  # CPU the suite's other tests need; the dynos compile on import
            "--progress-bar",
            "off",
            "--quiet",
        ],
        cwd=app_dir,
        env=install_env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    listed = subprocess.run(
        [str(fresh / "bin" / "python"), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
        env=install_env,
    )
    installed = {canonicalize_name(p["name"]): p["version"] for p in json.loads(listed.stdout)}
    assert not DEV_ONLY & set(installed), "dev packages in the production environment"
    for name, version in locked_pins(app_dir / "requirements.txt").items():
        if name in installed:  # markers skip a few (e.g. colorama off Windows)
            assert installed[name] == version, name

    # Every module imports with the production packages alone (no dev package hides a
    # missing dependency, as six once did for rq-dashboard).
    imports = subprocess.run(
        [str(fresh / "bin" / "python"), "-c", IMPORT_EVERYTHING],
        cwd=app_dir,
        env=install_env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert imports.returncode == 0 and imports.stdout.strip() == "[]", (
        imports.stdout[-3000:] + imports.stderr[-3000:]
    )

    # The dynos' environment: config vars only, the fresh environment first on PATH.
    database_url = fresh_pg_database("mww_connector_deploy")
    redis_url = (  # the suite's own database unless told otherwise
        os.environ.get("TEST_REDIS_DEPLOY_URL")
        or os.environ.get("TEST_REDIS_PROCFILE_URL")
        or REDIS_URL
    )
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    port = free_port()
    env = {
        "PATH": f"{fresh / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "APP_ENV": "production",
        "DATABASE_URL": database_url.replace("postgresql+psycopg://", "postgres://"),
        "REDIS_URL": redis_url,
        "SECRET_KEY": secrets.token_hex(32),
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    commands = procfile_commands(app_dir)
    assert set(commands) == {"release", "web", "worker", "clock"}
    logs = tmp_path / "logs"
    logs.mkdir()
    dynos: list[Dyno] = []

    def start(name: str) -> Dyno:
        dyno = Dyno(name, commands[name], app_dir, env, logs / f"{name}.log")
        dynos.append(dyno)
        return dyno

    try:
        # release: refuses without ENCRYPTION_KEY, then migrates (twice: idempotent).
        no_key = {k: v for k, v in env.items() if k != "ENCRYPTION_KEY"}
        refused = subprocess.run(
            ["bash", "-c", commands["release"]],
            cwd=app_dir,
            env=no_key,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert refused.returncode != 0 and "ENCRYPTION_KEY" in refused.stderr
        engine = create_engine(database_url)
        with engine.connect() as conn:
            assert not conn.execute(text("SELECT to_regclass('public.alembic_version')")).scalar()
        for _ in range(2):
            release = subprocess.run(
                ["bash", "-c", commands["release"]],
                cwd=app_dir,
                env=env,
                capture_output=True,
                text=True,
                timeout=180,
            )
            assert release.returncode == 0, release.stderr[-3000:]
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        engine.dispose()

        # web: /healthz answers 200, then a clean stop.
        web = start("web")
        wait_until(
            lambda: (
                not web.running()
                or requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            ),
            90,
            "/healthz",
        )
        assert web.running(), web.log()[-3000:]
        assert web.stop() <= STOP_LIMIT_SECONDS

        # worker: SIGTERM while a job runs and another waits; neither is lost.
        queue = get_queue(redis, "bookings")
        worker = start("worker")
        wait_until(
            lambda: len(Worker.all(connection=redis)) == 1 or not worker.running(),
            90,
            "the worker to register",
        )
        assert worker.running(), worker.log()[-3000:]
        policy = {
            "retry": Retry(max=len(BOOKING_RETRY_INTERVALS), interval=BOOKING_RETRY_INTERVALS),
            "job_timeout": 300,
            "failure_ttl": 7 * 24 * 3600,
        }  # as app.jobs.queue's
        running = queue.enqueue("time.sleep", 12, job_id="deploy-running", **policy)
        waiting = queue.enqueue("time.sleep", 0, job_id="deploy-waiting", **policy)

        def status(job: Job) -> JobStatus | None:
            try:
                return Job.fetch(job.id, connection=redis, serializer=JSONSerializer).get_status()
            except NoSuchJobError:  # between RQ's writes of a job; a lost one times out below
                return None

        wait_until(lambda: status(running) == JobStatus.STARTED, 60, "the job to start")
        took = worker.stop()
        assert took <= STOP_LIMIT_SECONDS
        # The interrupted job is back for a retry, the waiting one still queued.
        assert status(running) in (JobStatus.SCHEDULED, JobStatus.QUEUED), status(running)
        assert status(waiting) == JobStatus.QUEUED
        assert Worker.all(connection=redis) == []  # deregistered, not left for dead
        assert "scheduled for retry" in worker.log()

        # The next worker (a restarted dyno) runs both to completion.
        again = start("worker")
        wait_until(
            lambda: status(running) == status(waiting) == JobStatus.FINISHED,
            120,
            f"both jobs to finish after the restart ({logs / 'worker.log'})",
        )
        assert again.stop() <= STOP_LIMIT_SECONDS

        # clock: runs its loop (claims its first time slot in Redis), stops cleanly.
        clock = start("clock")
        wait_until(
            lambda: not clock.running() or bool(redis.keys("mww:clock:*")),
            90,
            "the clock's first tick",
        )
        time.sleep(1)
        assert clock.running(), clock.log()[-3000:]
        assert clock.stop() <= STOP_LIMIT_SECONDS
        for dyno in dynos:
            for line in dyno.log().splitlines():
                # The one expected: RQ cancelling the in-flight job at SIGTERM.
                assert "Traceback" not in line or "ShutDownImminentException" in line, line
    finally:
        for dyno in dynos:
            dyno.kill()
        redis.flushdb()


def test_heroku_redis_tls_urls_accept_its_self_signed_certificates() -> None:
    from redis import Redis

    url = Settings.from_env({"REDIS_URL": "rediss://:secret@ec2.example:6380"}).redis_url
    assert Redis.from_url(url).connection_pool.connection_kwargs["ssl_cert_reqs"] == "none"
    explicit = "rediss://h.example:6380/0?ssl_cert_reqs=required"
    assert Settings.from_env({"REDIS_URL": explicit}).redis_url == explicit
    assert Settings.from_env({"REDIS_URL": "redis://h:6379/1"}).redis_url == "redis://h:6379/1"
