"""The Mijnwebwinkel (MyOnlineStore Connect) REST client: ``ShopApi`` over ``requests``.

Secrets travel in every URL (query-parameter auth, NOTES.md §2). Nothing here lets a URL
escape unredacted: log lines, exception texts and ``repr`` go through ``redact_url``, and
``transport`` drops requests' own exceptions.

Transient failures (connection errors, timeouts, 429, 5xx, a 2xx without JSON) are
retried ``max_retries`` times with exponential backoff and jitter (429: the server's
``Retry-After``, capped); then ``RateLimitedError`` or ``UpstreamUnavailableError``.
Permanent ones raise at once (``errors``: which status means what). Only this package
imports ``requests`` (outside the sandbox): ``transport`` holds the shared session,
``wire`` the response shapes and parameter texts.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests

from app.clients.mijnwebwinkel import errors, wire
from app.clients.mijnwebwinkel.errors import SYSTEM, bad_shape
from app.clients.mijnwebwinkel.transport import (
    API_VERSION,
    Transient,
    backoff_delay,
    redact_url,
    send,
    shared_session,
)
from app.clients.retry_after import IN_CALL_WAIT_SECONDS
from app.core.order_schema import parse_order, parse_order_summary
from app.core.orders import Order, OrderStatus, OrderSummary, ShopInfo
from app.core.payment_facts import PaymentFacts, parse_payments
from app.errors import OrderDataError, UpstreamRejectedError, UpstreamUnavailableError

if TYPE_CHECKING:
    from app.config import Settings

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.myonlinestore.com"
LANGUAGE = "nl_NL"
PAGE_SIZE = 100  # the API's maximum ``limit``
MAX_PAGES = 10_000  # a guard against an API that ignores ``offset``
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
        kwargs.setdefault("timeout", settings.http_timeout)
        return cls(
            token,
            partner_token=settings.mijnwebwinkel_partner_token,
            base_url=settings.mijnwebwinkel_api_url,
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
        return parse_order(wire.unwrap_object(data, "order"))

    def iter_orders_changed(self, start: dt.datetime, end: dt.datetime) -> Iterator[OrderSummary]:
        return self._iter_orders(
            {
                "status_changed_start_date": wire.local_text(start),
                "status_changed_end_date": wire.local_text(end),
            }
        )

    def iter_orders_by_date(
        self, start: dt.date, end: dt.date, status_id: int
    ) -> Iterator[OrderSummary]:
        return self._iter_orders(
            {
                "start_date": wire.date_text(start),
                "end_date": wire.date_text(end),
                "status_id": str(int(status_id)),
            }
        )

    def iter_orders_placed(self, start: dt.date, end: dt.date) -> Iterator[Order | OrderSummary]:
        filters = {"start_date": wire.date_text(start), "end_date": wire.date_text(end)}
        return self._iter_orders(filters, full=True)

    def count_orders(self, **filters: object) -> int:
        unknown = set(filters) - COUNT_FILTERS
        if unknown:
            raise TypeError(f"unknown order-count filters: {sorted(unknown)}")
        params = {k: wire.param_text(v) for k, v in filters.items() if v is not None}
        return wire.count(self._get("count_orders", "orders/count", params))

    def order_statuses(self) -> list[OrderStatus]:
        return wire.order_statuses(self._get("order_statuses", "orderstatuses", auth="partner"))

    def store(self) -> ShopInfo:
        return wire.store(self._get("store", "store"))

    def order_payments(self, number: str) -> PaymentFacts | None:
        """``GET /orders/{number}/payments?embed=mutations``; None when the listing is not
        offered (HTTP 404 or another refusal) so the caller falls back on the order's
        deprecated fields. Transient failures raise as for any call."""
        number = str(number).strip()
        try:
            data = self._get(
                "order_payments",
                f"orders/{quote(number, safe='')}/payments",
                {"embed": "mutations"},
            )
        except UpstreamRejectedError as err:  # 404 and other 4xx; not auth (it raises)
            log.info("mijnwebwinkel order_payments %s: no listing (%s)", number, err.code)
            return None
        try:
            return parse_payments(data)
        except ValueError:
            raise bad_shape("order_payments", "expected a list of payments") from None

    def payment_methods(self) -> list[tuple[str, str]]:
        """The shop's payment methods as (name, display name), from
        ``GET /payment/stores/me/gateways``."""
        return wire.payment_methods(self._get("payment_methods", "payment/stores/me/gateways"))

    # -- paging -----------------------------------------------------------------------

    def _iter_orders(self, filters: dict[str, str], full: bool = False) -> Iterator[Any]:
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
            page = wire.unwrap_list(self._get("list_orders", "orders", params), "orders")
            if page is None:
                raise bad_shape("list_orders", "expected a list of orders")
            for item in page:
                try:
                    summary = _full_or_summary(item) if full else parse_order_summary(item)
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
            explanation="Mijnwebwinkel bleef bestellingen terugsturen. " + errors.RETRY_LATER,
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
        failure: Transient | None = None
        attempts = self._max_retries + 1
        for attempt in range(attempts):
            if failure is not None:
                delay = backoff_delay(attempt - 1, failure, self._backoff, self._random)
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
            response, failure = send(self._session, url, query, self._timeout, self._redact)
            if response is not None:
                try:
                    failure, data = errors.read(
                        response,
                        operation,
                        path,
                        order_number,
                        redact=self._redact,
                        partner_token=bool(self._partner_token),
                    )
                except UpstreamRejectedError as err:  # permanent: no retry
                    self._record(operation, err.code, started)
                    raise
                if failure is None:
                    self._record(operation, "ok", started)
                    log.debug("mijnwebwinkel %s %s: %s", operation, path, response.status_code)
                    return data
            assert failure is not None
            self._record(operation, failure.code, started)
            if (failure.retry_after or 0) > IN_CALL_WAIT_SECONDS:  # too long to wait here:
                break  # RateLimitedError(retry_after) defers the job (app/jobs/defer.py)
        assert failure is not None
        raise errors.exhausted(operation, path, failure, attempt + 1)

    def _auth_params(self, auth: str) -> dict[str, str]:
        if auth == "partner" and self._partner_token:
            # /orderstatuses: "security: [PartnerToken]" only (NOTES.md §2).
            return {"partner_token": self._partner_token}
        params = {"token": self._token}
        if self._partner_token:
            params["partner_token"] = self._partner_token
        return params

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


def _full_or_summary(item: Any) -> Order | OrderSummary:
    """The full order when it parses, else its summary (the report lists it as odd)."""
    try:
        return parse_order(item)
    except OrderDataError:
        return parse_order_summary(item)
