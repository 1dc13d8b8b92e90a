"""The Mijnwebwinkel (MyOnlineStore Connect) REST client: ``ShopApi`` over ``requests``.

The API authenticates with query parameters (``token``, ``partner_token``; NOTES.md §2),
so secrets travel in every URL. Nothing here lets a URL escape unredacted: log lines,
exception texts and ``repr`` go through :func:`redact_url`, requests' own exceptions
(whose text holds the URL) are never chained, and urllib3's debug log of request lines
is filtered.

Transient failures (connection errors, timeouts, 429, 5xx, a 2xx without JSON) are
retried ``max_retries`` times with exponential backoff and jitter (429: the server's
``Retry-After``, capped); then ``RateLimitedError`` or ``UpstreamUnavailableError``.
401/403 → ``ShopAuthError``; 404 on an order → ``OrderNotFoundError``; other 4xx →
``UpstreamRejectedError``. Only this module imports ``requests`` (outside the sandbox).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import requests
from requests.adapters import HTTPAdapter

from app.core.order_schema import parse_order, parse_order_summary
from app.core.orders import Order, OrderStatus, OrderSummary, Store
from app.errors import (
    OrderDataError,
    OrderNotFoundError,
    RateLimitedError,
    ShopAuthError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)

if TYPE_CHECKING:
    from app.config import Settings

log = logging.getLogger(__name__)

SYSTEM = "mijnwebwinkel"
DEFAULT_BASE_URL = "https://api.myonlinestore.com"
API_VERSION = "1"
LANGUAGE = "nl_NL"
PAGE_SIZE = 100  # the API's maximum ``limit``
MAX_PAGES = 10_000  # a guard against an API that ignores ``offset``
RETRY_AFTER_CAP = 60.0  # seconds; a longer Retry-After is cut to this
BACKOFF_CAP = 30.0
SHOP_TZ = ZoneInfo("Europe/Amsterdam")
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # the status_changed_* filters' format
COUNT_FILTERS = frozenset(
    {
        "start_date",
        "end_date",
        "archived",
        "status_id",
        "status_changed_start_date",
        "status_changed_end_date",
        "test",
    }
)
Metrics = Callable[[str, str, float], None]

_SECRET_PARAM = re.compile(r"(?<![\w-])((?:partner_)?token=)[^&#\s'\"<>]*", re.IGNORECASE)

_NEW_TOKEN = (
    "Maak in Mijnwebwinkel een nieuwe API-token aan via Instellingen > API > Token "
    "toevoegen (in het nieuwe menu: Instellingen > Add-ons & Modules > Integraties & "
    "koppelingen), kies deze koppeling als partner en vul de nieuwe token in bij "
    "Gegevens van de koppeling."
)
_RETRY_LATER = "De koppeling probeert het later automatisch opnieuw."


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


def _install_log_filter() -> None:
    for name in ("urllib3.connectionpool", "urllib3.connection"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactingFilter) for f in logger.filters):
            logger.addFilter(_RedactingFilter())


_install_log_filter()

_session: requests.Session | None = None
_session_lock = threading.Lock()


def shared_session() -> requests.Session:
    """The process-wide session (connection pooling); a forked child makes its own."""
    global _session
    with _session_lock:
        if _session is None:
            session = requests.Session()
            # Retries are ours (with backoff and error mapping), not urllib3's.
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            session.headers.update(
                {"Accept": "application/json", "User-Agent": "mww-eboekhouden/0.1"}
            )
            _session = session
        return _session


def _forget_session() -> None:
    global _session
    _session = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_session)


class _Transient:
    """A failed attempt that may succeed when retried."""

    def __init__(self, code: str, detail: str, retry_after: float | None = None):
        self.code = code
        self.detail = detail
        self.retry_after = retry_after


class MijnwebwinkelClient:
    """One shop's API, its store token bound at construction. Implements ``ShopApi``."""

    def __init__(
        self,
        token: str,
        *,
        partner_token: str = "",
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        session: requests.Session | None = None,
        metrics: Metrics | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not token:
            raise ValueError("a Mijnwebwinkel store token is required")
        self._token = token
        self._partner_token = partner_token
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._max_retries = max(0, max_retries)
        self._backoff = backoff
        self._session = session if session is not None else shared_session()
        self._metrics = metrics
        self._sleep = sleep
        self._random = random.Random()

    @classmethod
    def from_settings(cls, settings: Settings, token: str, **kwargs: Any) -> MijnwebwinkelClient:
        return cls(
            token,
            partner_token=settings.mijnwebwinkel_partner_token,
            base_url=settings.mijnwebwinkel_api_url,
            timeout=settings.http_timeout,
            **kwargs,
        )

    def __repr__(self) -> str:
        return f"MijnwebwinkelClient(base_url={self._base_url!r}, token='***')"

    # -- ShopApi ----------------------------------------------------------------------

    def get_order(self, number: str) -> Order:
        number = str(number).strip()
        if not number:
            raise ValueError("an order number is required")
        data = self._get("get_order", f"orders/{quote(number, safe='')}", order_number=number)
        if isinstance(data, dict) and set(data) == {"order"}:
            data = data["order"]
        return parse_order(data)

    def iter_orders_changed(self, start: dt.datetime, end: dt.datetime) -> Iterator[OrderSummary]:
        return self._iter_orders(
            {
                "status_changed_start_date": _local_text(start),
                "status_changed_end_date": _local_text(end),
            }
        )

    def iter_orders_by_date(
        self, start: dt.date, end: dt.date, status_id: int
    ) -> Iterator[OrderSummary]:
        return self._iter_orders(
            {
                "start_date": _date_text(start),
                "end_date": _date_text(end),
                "status_id": str(int(status_id)),
            }
        )

    def count_orders(self, **filters: object) -> int:
        unknown = set(filters) - COUNT_FILTERS
        if unknown:
            raise TypeError(f"unknown order-count filters: {sorted(unknown)}")
        params = {key: _param_text(value) for key, value in filters.items() if value is not None}
        data = self._get("count_orders", "orders/count", params)
        count = data.get("count") if isinstance(data, dict) else data
        try:
            return int(count)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise _bad_shape("count_orders", "no integer 'count'") from None

    def order_statuses(self) -> list[OrderStatus]:
        data = _unwrap_list(
            self._get("order_statuses", "orderstatuses", auth="partner"),
            "orderstatuses",
            "statuses",
        )
        if data is None:
            raise _bad_shape("order_statuses", "expected a list")
        statuses = []
        for item in data:
            try:
                statuses.append(
                    OrderStatus(
                        status=int(item["status"]),
                        description=str(item.get("description") or ""),
                        credit_order=item.get("credit_order") in (True, 1, "1", "true"),
                    )
                )
            except (KeyError, TypeError, ValueError, AttributeError):
                raise _bad_shape("order_statuses", "an entry without status") from None
        return statuses

    def store(self) -> Store:
        data = self._get("store", "store")
        if isinstance(data, dict) and set(data) == {"store"}:
            data = data["store"]
        if not isinstance(data, dict) or not data.get("id"):
            raise _bad_shape("store", "no store id")
        known = {"id", "name", "currency", "region_code"}
        return Store(
            id=str(data["id"]),
            name=str(data.get("name") or ""),
            currency=str(data.get("currency") or "EUR").upper(),
            region_code=str(data.get("region_code") or "").upper(),
            extra={k: v for k, v in data.items() if k not in known},
        )

    # -- paging -----------------------------------------------------------------------

    def _iter_orders(self, filters: dict[str, str]) -> Iterator[OrderSummary]:
        """All pages (``limit`` 100, ``offset`` += page length, ``ordering=asc``) until
        a short page. Offset paging over a changing set can repeat an order when one
        enters the set before the offset during the pass: repeats are dropped by uuid
        (by number when the uuid is missing)."""
        seen: set[str] = set()
        offset = 0
        for _ in range(MAX_PAGES):
            params = {
                **filters,
                "limit": str(PAGE_SIZE),
                "offset": str(offset),
                "ordering": "asc",
            }
            page = _unwrap_list(self._get("list_orders", "orders", params), "orders")
            if page is None:
                raise _bad_shape("list_orders", "expected a list of orders")
            for item in page:
                try:
                    summary = parse_order_summary(item)
                except OrderDataError as err:  # unusable without number/status: skip
                    log.error("mijnwebwinkel list_orders: skipped an order: %s", err)
                    continue
                key = summary.uuid or f"number:{summary.number}"
                if key in seen:
                    continue
                seen.add(key)
                yield summary
            if len(page) < PAGE_SIZE:
                return
            offset += len(page)
        raise UpstreamUnavailableError(
            f"mijnwebwinkel list_orders: more than {MAX_PAGES} pages; offset ignored?",
            system=SYSTEM,
            operation="list_orders",
            code="paging",
            explanation="Mijnwebwinkel bleef bestellingen terugsturen. " + _RETRY_LATER,
        )

    # -- HTTP -------------------------------------------------------------------------

    def _get(
        self,
        operation: str,
        path: str,
        params: dict[str, str] | None = None,
        *,
        auth: str = "store",
        order_number: str = "",
    ) -> Any:
        url = f"{self._base_url}/v{API_VERSION}/{path}"
        query = {**self._auth_params(auth), "format": "json", "language": LANGUAGE}
        query.update(params or {})
        failure: _Transient | None = None
        attempts = self._max_retries + 1
        for attempt in range(attempts):
            if failure is not None:
                delay = self._delay(attempt - 1, failure)
                log.warning(
                    "mijnwebwinkel %s: %s; retry %d/%d in %.1fs",
                    operation,
                    failure.detail,
                    attempt,
                    self._max_retries,
                    delay,
                )
                self._sleep(delay)
            started = time.monotonic()
            response, failure = self._send(url, query)
            if response is not None:
                try:
                    failure, data = self._read(response, operation, path, order_number)
                except UpstreamRejectedError as err:  # permanent: no retry
                    self._record(operation, err.code, started)
                    raise
                if failure is None:
                    self._record(operation, "ok", started)
                    log.debug("mijnwebwinkel %s %s: %s", operation, path, response.status_code)
                    return data
            assert failure is not None
            self._record(operation, failure.code, started)
        assert failure is not None
        message = (
            f"mijnwebwinkel {operation} GET /v{API_VERSION}/{redact_url(path)}: "
            f"{failure.detail} (after {attempts} attempts)"
        )
        if failure.code == "http_429":
            raise RateLimitedError(
                message,
                retry_after=failure.retry_after,
                system=SYSTEM,
                operation=operation,
                code=failure.code,
                explanation="Mijnwebwinkel vraagt om minder verzoeken per minuut. " + _RETRY_LATER,
            )
        raise UpstreamUnavailableError(
            message,
            system=SYSTEM,
            operation=operation,
            code=failure.code,
            explanation="Mijnwebwinkel is tijdelijk niet bereikbaar of gaf een "
            "serverfout. " + _RETRY_LATER,
        )

    def _auth_params(self, auth: str) -> dict[str, str]:
        if auth == "partner" and self._partner_token:
            # /orderstatuses: "security: [PartnerToken]" only (NOTES.md §2).
            return {"partner_token": self._partner_token}
        params = {"token": self._token}
        if self._partner_token:
            params["partner_token"] = self._partner_token
        return params

    def _send(
        self, url: str, query: dict[str, str]
    ) -> tuple[requests.Response | None, _Transient | None]:
        """One request. requests' exception texts contain the URL with the tokens: only
        a redacted copy of the text survives; the exception object is dropped."""
        try:
            return self._session.get(url, params=query, timeout=self._timeout), None
        except requests.Timeout as exc:
            failure = _Transient("timeout", f"timeout after {self._timeout}s ({exc})")
        except requests.ConnectionError as exc:
            failure = _Transient("connection_error", f"connection error ({exc})")
        except requests.RequestException as exc:
            failure = _Transient("request_error", f"{type(exc).__name__} ({exc})")
        failure.detail = self._redact(failure.detail)
        return None, failure

    def _read(
        self,
        response: requests.Response,
        operation: str,
        path: str,
        order_number: str,
    ) -> tuple[_Transient | None, Any]:
        """``(None, json)`` on success, ``(failure, None)`` for a retryable answer;
        raises ``UpstreamRejectedError`` (or a subclass) for a permanent one."""
        status = response.status_code
        if 200 <= status < 300:
            try:
                return None, response.json()
            except ValueError:
                return _Transient("bad_response", f"HTTP {status} without JSON"), None
        if status == 429:
            retry_after = _retry_after(response.headers.get("Retry-After"))
            return _Transient("http_429", "HTTP 429 Too Many Requests", retry_after), None
        if status >= 500:
            return _Transient(f"http_{status}", f"HTTP {status}"), None
        detail = self._redact(_error_detail(response))
        message = f"mijnwebwinkel {operation} GET /v{API_VERSION}/{path}: HTTP {status}"
        message += f" ({detail})" if detail else ""
        kw: dict[str, Any] = {"system": SYSTEM, "operation": operation}
        if status in (401, 403):
            raise ShopAuthError(
                message, code=f"http_{status}", explanation=self._auth_help(operation), **kw
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

    def _auth_help(self, operation: str) -> str:
        if operation == "order_statuses" and self._partner_token:
            return (
                "Mijnwebwinkel weigert de partnertoken van deze koppeling. Neem contact "
                "op met de beheerder van de koppeling."
            )
        return (
            "Mijnwebwinkel weigert de API-token van deze winkel: de token is onjuist of "
            "ingetrokken. " + _NEW_TOKEN
        )

    def _delay(self, retry: int, failure: _Transient) -> float:
        if failure.retry_after is not None:
            return min(failure.retry_after, RETRY_AFTER_CAP)
        base = min(BACKOFF_CAP, self._backoff * 2**retry)
        return base / 2 + self._random.uniform(0, base / 2)

    def _record(self, operation: str, outcome: str, started: float) -> None:
        if self._metrics is not None:
            self._metrics(operation, outcome, time.monotonic() - started)

    def _redact(self, text: str) -> str:
        """Query-string tokens, and the literal tokens wherever else they appear."""
        text = redact_url(text)
        for secret in (self._token, self._partner_token):
            if secret:
                text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
        return text


def _bad_shape(operation: str, detail: str) -> Exception:
    message = f"mijnwebwinkel {operation}: unexpected response ({detail})"
    explanation = f"Mijnwebwinkel gaf een antwoord dat de koppeling niet kan lezen ({detail})."
    if operation == "list_orders":
        return OrderDataError(message, explanation=explanation)
    return UpstreamRejectedError(
        message, system=SYSTEM, operation=operation, code="bad_shape", explanation=explanation
    )


def _unwrap_list(data: Any, *keys: str) -> list[Any] | None:
    """A bare JSON array, or one wrapped in an object (``{"orders": [...]}``: the live
    API wraps some lists the spec documents as bare arrays, NOTES.md §10)."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in keys:
            if isinstance(data.get(key), list):
                return data[key]  # type: ignore[no-any-return]
        if len(data) == 1 and isinstance(next(iter(data.values())), list):
            return next(iter(data.values()))  # type: ignore[no-any-return]
    return None


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the HTTP-date form is not expected from this API)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(0.0, seconds)


def _error_detail(response: requests.Response) -> str:
    """The message of an error body (the spec's ``Error``/``ApiProblem``, or guesses)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    if isinstance(body, dict):
        for key in ("detail", "description", "message", "title", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key][:200]  # type: ignore[no-any-return]
    return ""


def _local_text(value: dt.datetime) -> str:
    """A shop-local "yyyy-mm-dd hh:mm:ss"; aware datetimes are converted first."""
    if value.tzinfo is not None:
        value = value.astimezone(SHOP_TZ).replace(tzinfo=None)
    return value.strftime(DATETIME_FORMAT)


def _date_text(value: dt.date) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat()


def _param_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return _local_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
