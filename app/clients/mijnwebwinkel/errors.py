"""Mijnwebwinkel's HTTP answers → the connector's error types, with the Dutch
explanations the shop owner reads.

Transient (connection errors, timeouts, 429, 5xx, a 2xx without JSON) come back as a
``Transient`` for the client to retry; when the retries run out, :func:`exhausted` makes
them ``RateLimitedError`` or ``UpstreamUnavailableError``. Permanent answers raise at
once: 401/403 → ``ShopAuthError``; 404 on an order → ``OrderNotFoundError``; other 4xx
and unreadable shapes → ``UpstreamRejectedError`` (``OrderDataError`` for order lists).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from app.clients.mijnwebwinkel.transport import API_VERSION, Transient, redact_url
from app.clients.retry_after import parse_retry_after
from app.errors import (
    OrderDataError,
    OrderNotFoundError,
    RateLimitedError,
    ShopAuthError,
    UpstreamError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)

SYSTEM = "mijnwebwinkel"

_NEW_TOKEN = (
    "Maak in Mijnwebwinkel een nieuwe API-token aan via Instellingen > API > Token "
    "toevoegen (in het nieuwe menu: Instellingen > Add-ons & Modules > Integraties & "
    "koppelingen), kies deze koppeling als partner en vul de nieuwe token in bij "
    "Gegevens van de koppeling."
)
RETRY_LATER = "De koppeling probeert het later automatisch opnieuw."


def read(
    response: requests.Response,
    operation: str,
    path: str,
    order_number: str,
    *,
    redact: Callable[[str], str],
    partner_token: bool,
) -> tuple[Transient | None, Any]:
    """``(None, json)`` on success, ``(failure, None)`` for a retryable answer; raises
    ``UpstreamRejectedError`` (or a subclass) for a permanent one. ``partner_token``:
    whether the client has one (it changes the advice on a refused ``order_statuses``)."""
    status = response.status_code
    if 200 <= status < 300:
        try:
            return None, response.json()
        except ValueError:
            return Transient("bad_response", f"HTTP {status} without JSON"), None
    if status == 429:
        seconds = parse_retry_after(response.headers.get("Retry-After"))
        return Transient("http_429", "HTTP 429 Too Many Requests", seconds), None
    if status >= 500:
        return Transient(f"http_{status}", f"HTTP {status}"), None
    detail = redact(_error_detail(response))
    message = f"mijnwebwinkel {operation} GET /v{API_VERSION}/{path}: HTTP {status}"
    message += f" ({detail})" if detail else ""
    kw: dict[str, Any] = {"system": SYSTEM, "operation": operation}
    if status in (401, 403):
        raise ShopAuthError(
            message,
            code=f"http_{status}",
            explanation=_auth_help(operation, partner_token),
            **kw,
        )
    if status == 404 and order_number:
        raise OrderNotFoundError(
            message,
            code="http_404",
            explanation=f"Bestelling {order_number} bestaat niet (meer) in Mijnwebwinkel.",
            **kw,
        )
    raise UpstreamRejectedError(
        message,
        code=f"http_{status}",
        explanation=f"Mijnwebwinkel weigerde het verzoek (HTTP {status}). Opnieuw "
        "proberen helpt niet; neem contact op met de beheerder van de koppeling.",
        **kw,
    )


def exhausted(operation: str, path: str, failure: Transient, attempts: int) -> UpstreamError:
    """The error for a request whose every attempt failed transiently."""
    message = (
        f"mijnwebwinkel {operation} GET /v{API_VERSION}/{redact_url(path)}: "
        f"{failure.detail} (after {attempts} attempts)"
    )
    if failure.code == "http_429":
        return RateLimitedError(
            message,
            retry_after=failure.retry_after,
            system=SYSTEM,
            operation=operation,
            code=failure.code,
            explanation="Mijnwebwinkel vraagt om minder verzoeken per minuut. " + RETRY_LATER,
        )
    return UpstreamUnavailableError(
        message,
        system=SYSTEM,
        operation=operation,
        code=failure.code,
        explanation="Mijnwebwinkel is tijdelijk niet bereikbaar of gaf een "
        "serverfout. " + RETRY_LATER,
    )


def bad_shape(operation: str, detail: str) -> Exception:
    """A 2xx answer whose JSON the client cannot read."""
    message = f"mijnwebwinkel {operation}: unexpected response ({detail})"
    explanation = f"Mijnwebwinkel gaf een antwoord dat de koppeling niet kan lezen ({detail})."
    if operation == "list_orders":
        return OrderDataError(message, explanation=explanation)
    return UpstreamRejectedError(
        message, system=SYSTEM, operation=operation, code="bad_shape", explanation=explanation
    )


def _auth_help(operation: str, partner_token: bool) -> str:
    if operation == "order_statuses" and partner_token:
        return (
            "Mijnwebwinkel weigert de partnertoken van deze koppeling. Neem contact "
            "op met de beheerder van de koppeling."
        )
    return (
        "Mijnwebwinkel weigert de API-token van deze winkel: de token is onjuist of "
        "ingetrokken. " + _NEW_TOKEN
    )


def _error_detail(response: requests.Response) -> str:
    """The message of an error body (the spec's ``Error``/``ApiProblem``, or guesses)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    if isinstance(body, dict):
        for key in ("detail", "description", "message", "title", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key][:200]
    return ""
