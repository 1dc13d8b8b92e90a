"""Fault injection shared by both simulators.

A test (or a chaos run, over the simulators' ``/_sandbox/faults`` endpoint) schedules
faults; the simulator asks ``take(operation)`` on every request and acts on what it gets.

Kinds:
- ``latency``: sleep ``seconds`` before answering (also the standing ``latency`` setting).
- ``http_status``: answer with ``status`` (429, 500, 503, ...); ``retry_after`` for 429.
- ``timeout``: sleep ``seconds`` (default 30) so the client's timeout fires.
- ``drop``: close the connection without an answer, before doing anything.
- ``commit_then_drop``: do the work (store the mutation), then close the connection
  without an answer: the case that causes double bookings in naive connectors.
- ``soap_fault``: answer a SOAP 1.1 Fault (``faultcode`` Server or Client).
- ``session_expired``: the e-Boekhouden session is invalid for this call.
- ``auth``: answer as if the credentials/token were revoked.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

KINDS = frozenset(
    {
        "latency",
        "http_status",
        "timeout",
        "drop",
        "commit_then_drop",
        "soap_fault",
        "session_expired",
        "auth",
    }
)


@dataclass
class Fault:
    kind: str
    operation: str | None = None  # None: any operation
    times: int | None = 1  # None: until cleared
    probability: float = 1.0
    params: dict[str, Any] = field(default_factory=dict)

    def matches(self, operation: str) -> bool:
        return self.operation is None or self.operation == operation


class Faults:
    """Thread-safe schedule of faults plus counters of what was injected."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)
        self.latency = 0.0  # seconds added to every request
        self.injected: Counter[str] = Counter()

    def add(
        self,
        kind: str,
        *,
        operation: str | None = None,
        times: int | None = 1,
        probability: float = 1.0,
        **params: Any,
    ) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(KINDS)}")
        fault = Fault(kind, operation, times, probability, params)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.latency = 0.0

    def take(self, operation: str) -> Fault | None:
        """The fault to apply to this request, if any (consumes one of its ``times``)."""
        with self._lock:
            for fault in self._faults:
                if not fault.matches(operation):
                    continue
                if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                self.injected[f"{fault.kind}:{operation}"] += 1
                return fault
        return None

    def configure(self, spec: dict[str, Any]) -> None:
        """Apply a JSON spec: ``{"latency": 0.05, "clear": true, "add": [{...}, ...]}``."""
        if spec.get("clear"):
            self.clear()
        if "latency" in spec:
            self.latency = float(spec["latency"])
        for item in spec.get("add", []):
            item = dict(item)
            kind = item.pop("kind")
            self.add(
                kind,
                operation=item.pop("operation", None),
                times=item.pop("times", 1),
                probability=float(item.pop("probability", 1.0)),
                **item,
            )

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency": self.latency,
                "pending": [
                    {"kind": f.kind, "operation": f.operation, "times": f.times, **f.params}
                    for f in self._faults
                ],
                "injected": dict(self.injected),
            }


def drop_connection(environ: dict[str, Any]) -> None:
    """Close the client's TCP connection from inside a werkzeug-served WSGI app."""
    import socket

    sock = environ.get("werkzeug.socket")
    if sock is None:  # not under werkzeug's server: nothing better than an error
        raise ConnectionAbortedError("simulated dropped connection")
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
