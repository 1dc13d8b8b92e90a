"""What ``make run`` tells the person at the terminal, and a second terminal.

- ``choose_port``: 5000 unless it is taken (macOS's AirPlay receiver listens there): then
  a free port, and the banner says so. An explicit ``PORT`` is used as it is.
- ``RunBlock``: the addresses of this run (Redis, the simulators, the web address, the
  mail sink) in a marked block at the end of ``.env``, where ``flask --app app …`` in a
  second terminal reads them (Flask loads ``.env``); rewritten at every start, removed
  at a clean stop, and never read back as settings by the next ``make run``.
- ``Banner``: the URL and login, printed once the web process answers (after the start-up
  lines) and then a one-line reminder every ``SANDBOX_BANNER_INTERVAL`` seconds, so it is
  never more than a screen away.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

DEFAULT_PORT = 5000
BANNER_INTERVAL = 120.0  # seconds between the one-line reminders (SANDBOX_BANNER_INTERVAL)
HEALTH_TIMEOUT = 120.0  # the banner waits this long for /healthz before printing anyway
BLOCK_START = "# --- make run: where this run listens (rewritten at every start; do not edit) ---"
BLOCK_END = "# --- end of make run ---"


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Something answers on the port, or it cannot be bound (on any address)."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        if probe.connect_ex((host, port)) == 0:
            return True
    for address in ("127.0.0.1", "0.0.0.0"):
        with socket.socket() as sock:
            try:
                sock.bind((address, port))
            except OSError:
                return True
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def choose_port(explicit: str | None, default: int = DEFAULT_PORT) -> tuple[int, str]:
    """(port, a note for the banner or ""). An explicit PORT that is taken stops make run."""
    if explicit:
        port = int(explicit)
        if port_in_use(port):
            raise SystemExit(
                f"PORT={port} is already in use on this machine. Stop what listens there, or "
                "leave PORT unset and make run picks a free port."
            )
        return port, ""
    if not port_in_use(default):
        return default, ""
    port = free_port()
    return port, (
        f"port {default} is taken on this machine (on macOS often the AirPlay receiver), so "
        f"the connector listens on {port}"
    )


class RunBlock:
    """The run's addresses at the end of ``.env`` (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def strip(self) -> None:
        """Remove a block left by an earlier run (one that did not stop cleanly)."""
        if not self.path.exists():
            return
        kept, inside = [], False
        for line in self.path.read_text().splitlines():
            if line.strip() == BLOCK_START:
                inside = True
            elif line.strip() == BLOCK_END:
                inside = False
            elif not inside:
                kept.append(line)
        self.path.write_text("\n".join(kept).rstrip("\n") + "\n")

    def write(self, values: dict[str, str]) -> None:
        self.strip()
        lines = [BLOCK_START, *(f"{key}={value}" for key, value in values.items()), BLOCK_END]
        with self.path.open("a") as env_file:
            env_file.write("\n".join(lines) + "\n")


class Banner:
    """Prints the banner when the web process answers, then a reminder now and then."""

    def __init__(
        self,
        full: str,
        reminder: str,
        health_url: str,
        interval: float,
        out: Callable[[str], None] | None = None,
    ) -> None:
        self.full, self.reminder, self.health_url = full, reminder, health_url
        self.interval = interval
        self.out = out or (lambda text: print(text, flush=True))
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="banner", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as response:
                return int(response.status) == 200
        except OSError:
            return False

    def _run(self) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT
        while not self.stop.is_set() and time.monotonic() < deadline and not self._answers():
            self.stop.wait(0.5)
        if self.stop.is_set():
            return
        self.out(self.full)
        while not self.stop.wait(self.interval):
            self.out(self.reminder)
