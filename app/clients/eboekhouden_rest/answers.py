"""What an e-Boekhouden REST answer means: the JSON of a success, or the connector's typed
error for a failure (Error.md / SecurityError.md bodies through ``errors.ERROR_CODES``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import requests

from app.clients.eboekhouden_rest import errors as errs
from app.clients.meaning import says_already_exists
from app.clients.retry_after import parse_retry_after
from app.errors import (
    BookkeepingAuthError,
    RateLimitedError,
    SessionExpiredError,
    UpstreamError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)

SYSTEM = errs.SYSTEM


def answer(
    response: requests.Response,
    operation: str,
    in_session: bool,
    context: Mapping[str, str] | None,
    redact: Callable[[str], str],
) -> Any:
    """The JSON of a 2xx answer (None when empty), else the typed error it means."""
    status = response.status_code
    if 200 <= status < 300:
        if not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError:
            raise error(
                UpstreamUnavailableError,
                operation,
                "unreadable response",
                "bad_response",
                errs.BAD_RESPONSE,
            ) from None
    text = f"HTTP {status}"
    if status == 429:
        raise RateLimitedError(
            f"e-Boekhouden {operation}: {text}",
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            system=SYSTEM,
            operation=operation,
            code="http_429",
            explanation=errs.RATE_LIMITED,
        )
    if status >= 500 or status == 408:
        raise error(
            UpstreamUnavailableError,
            operation,
            text,
            f"http_{status}",
            errs.UNAVAILABLE.format(status=status),
        )
    code, message = _error_body(response, redact)
    if status == 401 and in_session:
        # Our session token is stale (whatever the code says): reopen once.
        raise SessionExpiredError(
            f"e-Boekhouden {operation}: {text} [{code or '-'}] {message or '-'}",
            system=SYSTEM,
            operation=operation,
            code=code or "http_401",
            explanation=errs.SESSION_REFUSED,
        )
    if code or (operation == errs.CREATE_RELATION and says_already_exists(message)):
        raise errs.error_for(code, message, operation=operation, status=status, context=context)
    if status in (400, 401) and operation == errs.SESSION:
        raise errs.error_for("", message, operation=operation, status=status)
    if status == 403:
        raise error(
            BookkeepingAuthError,
            operation,
            text,
            "http_403",
            errs.FORBIDDEN.format(operation=errs.action(operation)),
        )
    if status == 404:
        raise error(
            UpstreamRejectedError,
            operation,
            text,
            "http_404",
            errs.NOT_FOUND.format(operation=errs.action(operation)),
        )
    raise error(
        UpstreamRejectedError,
        operation,
        f"{text}: {message}",
        f"http_{status}",
        errs.HTTP_REJECTED.format(operation=errs.action(operation), status=status),
    )


def _error_body(response: requests.Response, redact: Callable[[str], str]) -> tuple[str, str]:
    """(code, text) of an Error/SecurityError body; text joins title, message, errors."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    parts: list[str] = []
    for key in ("title", "message"):
        value = body.get(key)
        if isinstance(value, str) and value.strip() and value.strip() not in parts:
            parts.append(value.strip())
    extra = body.get("errors")
    if isinstance(extra, list):
        parts.extend(str(e) for e in extra if str(e).strip() and str(e) not in parts)
    prop = body.get("propertyName")
    text = " ".join(parts) + (f" ({prop})" if isinstance(prop, str) and prop else "")
    code = body.get("code")
    return redact(str(code or "").strip())[:60], redact(text)[:500]


def error(
    cls: type[UpstreamError], operation: str, what: str, code: str, explanation: str
) -> UpstreamError:
    return cls(
        f"e-Boekhouden {operation}: {what}",
        system=SYSTEM,
        operation=operation,
        code=code,
        explanation=explanation,
    )
