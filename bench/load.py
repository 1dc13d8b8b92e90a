"""A small HTTP load generator for loopback: threads, raw sockets, bounded by count and
time. One request per connection (gunicorn's sync workers close after each answer), the
request bytes built beforehand so the generator's own cost is the same for every target.

Fixed-rate mode (``rate``) schedules request *i* at ``start + i / rate`` and measures
latency from that scheduled moment, so a server that falls behind is charged for the
queueing it causes (no coordinated omission).
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field


def http_post(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """One HTTP/1.1 POST as bytes, ``Connection: close``."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Connection: close",
        f"Content-Length: {len(body)}",
    ]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class LoadResult:
    elapsed: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)  # of 2xx answers

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def errors(self) -> int:
        return self.sent - self.ok

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run(
    port: int,
    requests: list[bytes],
    *,
    concurrency: int,
    duration: float,
    rate: float | None = None,
    timeout: float = 10.0,
) -> LoadResult:
    """Send ``requests`` (each used once, in order) to 127.0.0.1:``port`` from
    ``concurrency`` threads until all are sent or ``duration`` seconds have passed."""
    result = LoadResult()
    lock = threading.Lock()
    counter = iter(range(len(requests)))
    start = time.perf_counter()
    deadline = start + duration

    def worker() -> None:
        statuses: Counter[int] = Counter()
        latencies: list[float] = []
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            now = time.perf_counter()
            if rate is not None:
                scheduled = start + index / rate
                if scheduled >= deadline:
                    break
                if scheduled > now:
                    time.sleep(scheduled - now)
                began = scheduled
            else:
                if now >= deadline:
                    break
                began = now
            status = _send(port, requests[index], timeout)
            took = (time.perf_counter() - began) * 1000
            statuses[status] += 1
            if 200 <= status < 300:
                latencies.append(took)
        with lock:
            result.statuses.update(statuses)
            result.latencies_ms.extend(latencies)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + timeout + 5)
    result.elapsed = min(time.perf_counter(), deadline + timeout) - start
    return result


def _send(port: int, request: bytes, timeout: float) -> int:
    """Status code, or 0 for a connection error / timeout."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(request)
            chunks = []
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if b"\r\n\r\n" in chunk and _complete(b"".join(chunks)):
                    break
        head = b"".join(chunks).split(b"\r\n", 1)[0].split()
        return int(head[1]) if len(head) > 1 else 0
    except (OSError, ValueError):
        return 0


def _complete(data: bytes) -> bool:
    """True once the headers and Content-Length bytes of body have arrived."""
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip() or 0)
    return False
