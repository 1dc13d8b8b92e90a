"""HTTP below the Mijnwebwinkel client: the shared session, one GET, backoff, redaction.

The API authenticates with query parameters (``token``, ``partner_token``; NOTES.md §2),
so secrets travel in every URL: :func:`redact_url` removes them from any text, and
:func:`install_log_filter` (called once per process by ``app.logs``) applies it to
urllib3's debug log of request lines. requests' own exceptions (whose text holds the URL)
are never chained: only a redacted copy of their text survives.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable

import requests
from requests.adapters import HTTPAdapter

from app.clients.retry_after import IN_CALL_WAIT_SECONDS
from app.clients.sessions import ProcessSession

API_VERSION = "1"
BACKOFF_CAP = 30.0

_SECRET_PARAM = re.compile(r"(?<![\w-])((?:partner_)?token=)[^&#\s'\"<>]*", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``url`` (or any text with URLs): ``token``/``partner_token`` values → ``***``."""
    return _SECRET_PARAM.sub(r"\1***", url)


class _RedactingFilter(logging.Filter):
    """urllib3 logs each request line (``"GET /v1/orders?token=… HTTP/1.1" 200``) at
    DEBUG; this filter rewrites those records before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_url(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def install_log_filter() -> None:
    """Redact tokens in urllib3's request-line log records. Idempotent; call it once per
    process before the first request (``app.logs.install_redaction`` does)."""
    for name in ("urllib3.connectionpool", "urllib3.connection"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactingFilter) for f in logger.filters):
            logger.addFilter(_RedactingFilter())


def _configure(session: requests.Session) -> None:
    # Retries are ours (with backoff and error mapping), not urllib3's.
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers.update({"Accept": "application/json", "User-Agent": "mww-eboekhouden/0.1"})


_SESSION = ProcessSession(_configure)


def shared_session() -> requests.Session:
    """The process-wide session (connection pooling); a forked child makes its own."""
    return _SESSION.get()


class Transient:
    """A failed attempt that may succeed when retried."""

    def __init__(self, code: str, detail: str, retry_after: float | None = None):
        self.code = code
        self.detail = detail
        self.retry_after = retry_after


def send(
    session: requests.Session,
    url: str,
    query: dict[str, str],
    timeout: float,
    redact: Callable[[str], str],
) -> tuple[requests.Response | None, Transient | None]:
    """One GET. requests' exception texts contain the URL with the tokens: only a copy
    passed through ``redact`` survives; the exception object is dropped."""
    try:
        return session.get(url, params=query, timeout=timeout), None
    except requests.Timeout as exc:
        failure = Transient("timeout", f"timeout after {timeout}s ({exc})")
    except requests.ConnectionError as exc:
        failure = Transient("connection_error", f"connection error ({exc})")
    except requests.RequestException as exc:
        failure = Transient("request_error", f"{type(exc).__name__} ({exc})")
    failure.detail = redact(failure.detail)
    return None, failure


def backoff_delay(retry: int, failure: Transient, backoff: float, rng: random.Random) -> float:
    """The pause before retry number ``retry`` + 1: the server's ``Retry-After`` (capped),
    else exponential backoff from ``backoff`` seconds with jitter (capped)."""
    if failure.retry_after is not None:
        return min(failure.retry_after, IN_CALL_WAIT_SECONDS)
    base = min(BACKOFF_CAP, backoff * 2**retry)
    return base / 2 + rng.uniform(0, base / 2)
