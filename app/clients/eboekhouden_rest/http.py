"""One e-Boekhouden REST call: send, retry, check the status, parse, report metrics.

Retries (in this process, with exponential backoff):
- HTTP 429 on every call (the request was not processed), after ``Retry-After`` when the
  server sends one and it is at most ``max_retry_after`` seconds (else the
  ``RateLimitedError`` goes up with the hint, for the job queue to wait);
- HTTP 5xx, timeouts and dropped connections only on idempotent calls (GET, PATCH,
  DELETE, opening a session): a ``POST /v1/mutation`` that may have reached the server is
  never sent twice; the pipeline looks it up by invoice number first.
Connection *establishment* is retried by urllib3 for every call (nothing was sent).

Error bodies (Error.md / SecurityError.md: ``{type, code, title, message, status, ...}``)
become the connector's typed errors through ``errors.ERROR_CODES``. Secrets (the API
token, the session token) are redacted from every text that leaves this module.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter, Retry

from app.clients.eboekhouden_rest import errors as errs
from app.clients.eboekhouden_rest.answers import answer, error
from app.clients.sessions import ProcessSession
from app.errors import (
    RateLimitedError,
    SessionExpiredError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)

log = logging.getLogger(__name__)
SYSTEM = errs.SYSTEM
Metrics = Callable[[str, str, float], None]
_BAD_URL = (
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidURL,
)


def _configure(session: requests.Session) -> None:
    # respect_retry_after_header=False: urllib3 would otherwise retry a 429/503 carrying
    # Retry-After itself and end in a RetryError; ``Transport`` decides.
    retry = Retry(
        total=2,
        connect=2,
        read=0,
        status=0,
        other=0,
        redirect=0,
        backoff_factor=0.1,
        respect_retry_after_header=False,
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)


http_session = ProcessSession(_configure).get  # one per process (again after a fork)


class Secret:
    """A value that never shows itself in repr(), str() or tracebacks with locals."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__


class Transport:
    """Sends one logical call (with its retries) to ``base_url``."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        operation_timeout: float,
        retries: int,
        backoff: float,
        max_retry_after: float,
        metrics: Metrics | None,
        secrets: Callable[[], Iterable[str]],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = (timeout, operation_timeout)
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self._metrics = metrics
        self._secrets = secrets
        self._sleep = sleep

    def call(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        token: str | None = None,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotent: bool,
        context: Mapping[str, str] | None = None,
    ) -> Any:
        """The parsed JSON answer (None for an empty one). Raises only UpstreamErrors."""
        attempt = 0
        while True:
            try:
                return self._once(method, path, operation, token, params, body, context)
            except UpstreamUnavailableError as exc:
                delay = self._retry_delay(exc, attempt, idempotent)
                if delay is None:
                    raise
            attempt += 1
            log.info("e-Boekhouden %s: retry %d in %.2fs", operation, attempt, delay)
            self._sleep(delay)

    def _retry_delay(
        self, exc: UpstreamUnavailableError, attempt: int, idempotent: bool
    ) -> float | None:
        if attempt >= self.retries or isinstance(exc, SessionExpiredError):
            return None
        backoff = self.backoff * (2**attempt)
        if isinstance(exc, RateLimitedError):
            if exc.retry_after is None:
                return backoff
            return exc.retry_after if exc.retry_after <= self.max_retry_after else None
        return backoff if idempotent else None

    def _once(
        self,
        method: str,
        path: str,
        operation: str,
        token: str | None,
        params: Mapping[str, Any] | None,
        body: Any,
        context: Mapping[str, str] | None,
    ) -> Any:
        started = time.monotonic()
        outcome = "ok"
        try:
            response = self._send(method, path, operation, token, params, body)
            return answer(response, operation, token is not None, context, self.redact)
        except Exception as exc:
            outcome = type(exc).__name__
            raise
        finally:
            self._observe(operation, outcome, time.monotonic() - started)

    def _send(
        self,
        method: str,
        path: str,
        operation: str,
        token: str | None,
        params: Mapping[str, Any] | None,
        body: Any,
    ) -> requests.Response:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        try:
            return http_session().request(
                method,
                self.base_url + path,
                params=params,
                data=data,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise error(
                UpstreamUnavailableError, operation, "timeout", "timeout", errs.TIMEOUT
            ) from exc
        except _BAD_URL as exc:
            raise error(
                UpstreamRejectedError,
                operation,
                f"invalid URL ({type(exc).__name__})",
                "bad_url",
                errs.BAD_URL,
            ) from exc
        except requests.RequestException as exc:
            raise error(
                UpstreamUnavailableError,
                operation,
                f"connection failed ({type(exc).__name__})",
                "connection",
                errs.CONNECTION,
            ) from exc

    def redact(self, text: str) -> str:
        for secret in self._secrets():
            if secret and len(secret) >= 4:
                text = text.replace(secret, "***")
        return text

    def _observe(self, operation: str, outcome: str, seconds: float) -> None:
        log.debug("e-Boekhouden %s: %s in %.3fs", operation, outcome, seconds)
        if self._metrics is None:
            return
        try:
            self._metrics(operation, outcome, seconds)
        except Exception:  # a broken metrics hook must not break bookings
            log.exception("metrics callback failed for %s", operation)
