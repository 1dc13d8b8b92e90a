"""Shared test helpers (not fixtures): imported by test modules and by conftest."""

from __future__ import annotations

import base64
import concurrent.futures as cf
import datetime as dt
import json
import os
import re
import secrets
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import requests

from bench.stack import ShopInfo, Stack, signed_headers

CHAOS_ORDERS = int(os.environ.get("CHAOS_ORDERS") or 60)


CHAOS_SHOPS = int(os.environ.get("CHAOS_SHOPS") or 3)


CHAOS_SETTLE_SECONDS = float(os.environ.get("CHAOS_SETTLE_SECONDS") or 420)


SHOP_TZ = ZoneInfo("Europe/Amsterdam")


FORGED_BASE = 900_000  # order numbers of bad and forged notifications: no such orders


# The processes' settings for the run: short timeouts and lease, frequent reconciling,
# so every recovery path completes within minutes.
CHAOS_ENV = {
    "POLL_INTERVAL_SECONDS": "10",
    "RECONCILE_INTERVAL_SECONDS": "60",
    "HTTP_TIMEOUT_SECONDS": "3",
    "SOAP_OPERATION_TIMEOUT_SECONDS": "3",
    "BOOKING_LEASE_SECONDS": "20",
    "WEB_CONCURRENCY": "2",
}


@dataclass
class Sent:
    """What one genuine notification got (after the sender's own retries)."""

    shop_id: int
    number: str
    status: int
    answer: str
    at: float  # when the 202 came (epoch seconds)


@dataclass
class Sender:
    """Sends notifications like a Standard Webhooks sender: a 5xx or a dropped
    connection is retried with the same ``webhook-id`` (here after a second, 8 times)."""

    stack: Stack
    counts: Counter[str] = field(default_factory=Counter)
    sent: list[Sent] = field(default_factory=list)
    refused: list[tuple[str, int, set[int]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    local: threading.local = field(default_factory=threading.local)
    forged_numbers: set[str] = field(default_factory=set)

    def session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session  # type: ignore[no-any-return]

    def _count(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.counts[key] += n

    def genuine(
        self, shop: ShopInfo, number: str, msg_id: str | None = None, body: bytes | None = None
    ) -> Sent:
        body = body or json.dumps({"order_number": number}).encode()
        msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
        status, text = 0, ""
        for attempt in range(9):
            if attempt:
                self._count("sender retries (5xx or connection lost)")
                time.sleep(1.0)
            headers = signed_headers(shop.webhook_secret, body, msg_id=msg_id)
            try:
                answer = self.session().post(
                    shop.webhook_url, data=body, headers=headers, timeout=15
                )
                status, text = answer.status_code, answer.text
            except requests.RequestException as err:
                status, text = 0, type(err).__name__
            if status and status < 500:
                break
        sent = Sent(shop.id, number, status, _json_status(text), time.time())
        with self.lock:
            self.counts["genuine notifications"] += 1
            self.sent.append(sent)
        return sent

    def concurrent_copies(
        self, shop: ShopInfo, number: str, copies: int = 10, same_id: bool = True
    ) -> list[Sent]:
        """``copies`` notifications of one order at the same moment (one ``webhook-id``
        for all, or one each)."""
        body = json.dumps({"order_number": number}).encode()
        msg_id = f"msg_{uuid.uuid4().hex}"
        barrier = threading.Barrier(copies)

        def one(_: int) -> Sent:
            barrier.wait(timeout=30)
            return self.genuine(shop, number, msg_id if same_id else None, body)

        with cf.ThreadPoolExecutor(copies) as pool:
            results = list(pool.map(one, range(copies)))
        self._count(
            f"same notification x{copies} concurrently"
            + (" (one webhook-id)" if same_id else " (distinct webhook-ids)")
        )
        return results

    def hostile(self, shops: list[ShopInfo], shop: ShopInfo, kind: str) -> int:
        """One bad or forged notification of ``kind``; returns its HTTP status."""
        with self.lock:
            number = str(FORGED_BASE + len(self.forged_numbers) + 1)
            self.forged_numbers.add(number)
        body = json.dumps({"order_number": number}).encode()
        url = shop.webhook_url
        now = dt.datetime.now(dt.UTC)
        expected = {401}
        if kind == "forged: wrong secret":
            fake = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
            headers = signed_headers(fake, body)
        elif kind == "forged: another shop's secret":
            other = next(s for s in shops if s.id != shop.id) if len(shops) > 1 else shop
            headers = signed_headers(
                other.webhook_secret
                if other is not shop
                else "whsec_" + base64.b64encode(b"x" * 32).decode(),
                body,
            )
        elif kind == "forged: body changed after signing":
            headers = signed_headers(shop.webhook_secret, body)
            body = json.dumps({"order_number": str(int(number) + 50_000)}).encode()
        elif kind == "forged: replayed, timestamp 10 minutes old":
            headers = signed_headers(shop.webhook_secret, body, at=now - dt.timedelta(minutes=10))
        elif kind == "forged: no signature":
            headers = signed_headers(shop.webhook_secret, body)
            del headers["webhook-signature"]
        elif kind == "forged: garbage signature":
            headers = signed_headers(shop.webhook_secret, body)
            headers["webhook-signature"] = "v1," + base64.b64encode(b"\0" * 32).decode()
        elif kind == "bad: order number not a number":
            body = json.dumps({"order_number": "DROP TABLE bookings"}).encode()
            headers, expected = signed_headers(shop.webhook_secret, body), {400}
        elif kind == "bad: no order number":
            body = json.dumps({"order": number}).encode()
            headers, expected = signed_headers(shop.webhook_secret, body), {400}
        elif kind == "bad: body not JSON":
            body = f"order_number={number}".encode()
            headers, expected = signed_headers(shop.webhook_secret, body), {400}
        elif kind == "bad: wrong content type":
            headers = signed_headers(shop.webhook_secret, body)
            headers["Content-Type"] = "text/plain"
            expected = {415}
        elif kind == "bad: unknown shop key":
            headers, expected = signed_headers(shop.webhook_secret, body), {404}
            url = url.rsplit("/", 1)[0] + "/" + secrets.token_urlsafe(18)
        elif kind == "bad: body too large":
            body = json.dumps({"order_number": number, "pad": "x" * 70_000}).encode()
            headers, expected = signed_headers(shop.webhook_secret, body), {413}
        else:
            raise ValueError(kind)
        status = 0
        for _ in range(5):  # only a refused connection (Redis/web restarting) is resent
            try:
                status = (
                    self.session().post(url, data=body, headers=headers, timeout=15).status_code
                )
            except requests.RequestException:
                status = 0
            if status and status < 500:
                break
            time.sleep(1.0)
        with self.lock:
            self.counts[kind] += 1
            self.refused.append((kind, status, expected))
        return status


HOSTILE_KINDS = (
    "forged: wrong secret",
    "forged: another shop's secret",
    "forged: body changed after signing",
    "forged: replayed, timestamp 10 minutes old",
    "forged: no signature",
    "forged: garbage signature",
    "bad: order number not a number",
    "bad: no order number",
    "bad: body not JSON",
    "bad: wrong content type",
    "bad: unknown shop key",
    "bad: body too large",
)


def _json_status(text: str) -> str:
    try:
        return str(json.loads(text).get("status", ""))
    except (ValueError, AttributeError):
        return ""


@dataclass
class Expectation:
    outcome: str  # book | skip | fail
    soorts: tuple[str, ...] = ()
    total: Decimal | None = None
    status: int = 0
    changed_utc: dt.datetime | None = None
    test: bool = False


def expectation(order: dict[str, Any]) -> Expectation:
    """Decided from the order and the default mapping settings (what every chaos shop
    uses): booked, deliberately skipped, or failed for a person to fix."""
    from app.core.mapping import Booking, map_order
    from app.core.mapping_settings import MappingSettings
    from app.core.order_schema import parse_order
    from app.errors import MappingError, OrderDataError

    changed = (
        dt.datetime.fromisoformat(f"{order['status_changed_date']} {order['status_changed_time']}")
        .replace(tzinfo=SHOP_TZ)
        .astimezone(dt.UTC)
    )
    test = str(order["number"]).upper().startswith("T-")
    base = {"status": int(order["status"]), "changed_utc": changed, "test": test}
    if test:
        return Expectation("skip", **base)
    try:
        decision = map_order(parse_order(order), MappingSettings())
    except (MappingError, OrderDataError):
        return Expectation("fail", **base)
    if not isinstance(decision, Booking):
        return Expectation("skip", **base)
    total = Decimal(str(order["price"]["total"]))
    if decision.kind == "credit":
        total = -abs(total)
    return Expectation("book", tuple(m.soort.value for m in decision.mutations), total, **base)


def metric_values(text: str, name: str) -> dict[str, float]:
    """``{label value: sample}`` of a one-label counter in Prometheus text format."""
    values: dict[str, float] = {}
    for match in re.finditer(rf'^{name}\{{\w+="([^"]*)"\}} ([0-9.e+]+)$', text, re.M):
        values[match.group(1)] = values.get(match.group(1), 0.0) + float(match.group(2))
    return values


def ledger_rows(stack: Stack) -> list[Any]:
    from sqlalchemy import select

    from app.store.db import bookings

    with stack.services().engine.connect() as conn:
        return list(conn.execute(select(bookings)).all())


def reconcile_runs(stack: Stack) -> list[Any]:
    from sqlalchemy import select

    from app.store.db import reconcile_runs as runs

    with stack.services().engine.connect() as conn:
        return list(conn.execute(select(runs)).all())


def in_flight(stack: Stack) -> int:
    """Register rows (orders and payments) a worker is posting right now."""
    from sqlalchemy import func, select

    from app.store.db import bookings, payments

    now = dt.datetime.now(dt.UTC)
    total = 0
    with stack.services().engine.connect() as conn:
        for table in (bookings, payments):
            total += conn.execute(
                select(func.count())
                .select_from(table)
                .where(table.c.state == "posting", table.c.claimed_until > now)
            ).scalar_one()
    return int(total)


def quiet(stack: Stack) -> bool:
    """No booking job waiting in the queue and none posting."""
    try:
        return not stack.redis().llen("rq:queue:bookings") and not in_flight(stack)
    except Exception:  # Redis restarting
        return False


def wait_quiet(stack: Stack, timeout: float = 30.0, checks: int = 2) -> bool:
    """Until the queue is empty and nobody posts, ``checks`` times in a row 0.25 s apart
    (a job between the queue and its claim shows up in between); False after ``timeout``."""
    deadline, seen = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        seen = seen + 1 if quiet(stack) else 0
        if seen >= checks:
            return True
        time.sleep(0.25)
    return False
