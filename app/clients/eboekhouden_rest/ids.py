"""Where the REST client keeps ledger code → id and relation code → id per administration.

REST addresses ledgers and relations by numeric id; the connector's settings and the
pipeline speak codes. Translating costs a ``GET`` per code, so the answers are kept:
``MemoryIds`` in this process (the default), or a shared store (``app.fastpaths.RestIds``,
Redis) so that RQ's work horses, one forked process per job, do not look every code up
again for every order.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Protocol

LEDGER = "ledger"
RELATION = "relation"


class IdCache(Protocol):
    def get(self, kind: str, key: str) -> int | None: ...

    def put(self, kind: str, key: str, value: int) -> None: ...

    def forget(self, kind: str, key: str | None = None) -> None:
        """One entry, or every entry of ``kind`` when ``key`` is None."""
        ...


class MemoryIds:
    """An ``IdCache`` in this process's memory."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def get(self, kind: str, key: str) -> int | None:
        with self._lock:
            return self._ids.get((kind, key))

    def put(self, kind: str, key: str, value: int) -> None:
        with self._lock:
            self._ids[(kind, key)] = value

    def forget(self, kind: str, key: str | None = None) -> None:
        with self._lock:
            for found in [k for k in self._ids if k[0] == kind and key in (None, k[1])]:
                del self._ids[found]


_memory: dict[str, MemoryIds] = {}
_memory_lock = threading.Lock()


def memory_ids(url: str, token: str) -> MemoryIds:
    """The process's cache of one administration (by URL and token)."""
    key = hashlib.sha256(f"{url}\n{token}".encode()).hexdigest()
    with _memory_lock:
        return _memory.setdefault(key, MemoryIds())


def clear_caches() -> None:
    """Forget every id this process cached (tests; a ledger recreated by hand)."""
    with _memory_lock:
        _memory.clear()
