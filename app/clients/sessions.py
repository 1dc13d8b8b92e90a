"""One ``requests.Session`` per process for each client (connection pooling), made again
in a forked child, with the environment read once.

requests reads the proxy variables, the CA bundle variables and ``~/.netrc`` again on
every request when a session trusts the environment (about a millisecond a call:
docs/benchmarks.md §5). The CA bundle (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``) is read
here once, as requests would; with no proxy or netrc variable set there is nothing else
to read, so the session stops looking. With one set it keeps requests' own behaviour
(``NO_PROXY`` included).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import requests

PER_REQUEST = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "NETRC")


def environment_per_request() -> bool:
    return any(os.environ.get(name) or os.environ.get(name.lower()) for name in PER_REQUEST)


def ca_bundle() -> str | bool:
    """What requests verifies with: the bundle the environment names, else its own."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True


class ProcessSession:
    """``get()``: this process's session, built by ``configure`` on first use."""

    def __init__(self, configure: Callable[[requests.Session], None]) -> None:
        self._configure = configure
        self._lock = threading.Lock()
        self._made: tuple[int, requests.Session] | None = None

    def get(self) -> requests.Session:
        with self._lock:
            if self._made is None or self._made[0] != os.getpid():
                session = requests.Session()
                session.verify = ca_bundle()
                session.trust_env = environment_per_request()
                self._configure(session)
                self._made = (os.getpid(), session)
            return self._made[1]
