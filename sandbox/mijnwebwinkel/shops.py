"""The simulated shops: orders in memory, the order filters, the live-shape quirks."""

from __future__ import annotations

import copy
import datetime as dt
import re
import threading
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sandbox import order_factory
from sandbox.mijnwebwinkel.payments import PaymentBook

SHOP_TZ = ZoneInfo("Europe/Amsterdam")

# (status, nl_NL description, English description, credit_order).
# Documented ids (NOTES.md §7): 1 (spec example "Order Pending"), 2 Verzonden,
# 3 Betaald, 6 Betaald & afgehaald, 10 (a credit status: CreditOrderPostable example).
# The simulator's own guesses: 4 Geannuleerd, 5 Wacht op betaling, 11 Credit verwerkt,
# and the Dutch descriptions of 1 and 10.
ORDER_STATUSES: tuple[tuple[int, str, str, bool], ...] = (
    (1, "Nieuw", "Order Pending", False),
    (2, "Verzonden", "Shipped", False),
    (3, "Betaald", "Paid", False),
    (4, "Geannuleerd", "Cancelled", False),  # guess
    (5, "Wacht op betaling", "Awaiting payment", False),  # guess
    (6, "Betaald & afgehaald", "Paid & picked up", False),
    (10, "Gecrediteerd", "Credited", True),
    (11, "Credit verwerkt", "Credit processed", True),  # guess
)


class BadRequest(Exception):
    """A query parameter the API would refuse (answered with 400)."""


def _local(at: dt.datetime) -> dt.datetime:
    """Shop-local naive time: aware datetimes are converted, naive ones kept."""
    if at.tzinfo is not None:
        at = at.astimezone(SHOP_TZ).replace(tzinfo=None)
    return at.replace(microsecond=0)


def number_key(number: Any) -> int:
    digits = re.sub(r"\D", "", str(number))
    return int(digits) if digits else 0


def is_test_order(order: dict[str, Any]) -> bool:
    return str(order.get("number", "")).upper().startswith("T-")


class Shop:
    """One store (one token) with its orders, keyed by ``str(number)``."""

    def __init__(
        self,
        token: str,
        name: str,
        *,
        lock: threading.RLock,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self._lock = lock
        self._clock = clock
        self.token = token
        self.name = name
        self.id = str(uuid.uuid4())
        self.revoked = False
        self.orders: dict[str, dict[str, Any]] = {}
        self.payments = PaymentBook(self.id)

    def __repr__(self) -> str:  # never the token
        return f"Shop(name={self.name!r}, orders={len(self.orders)})"

    def next_number(self) -> int:
        with self._lock:
            return max([number_key(n) for n in self.orders] + [1000]) + 1

    def add_order(self, order: dict[str, Any]) -> dict[str, Any]:
        """Store a copy (spec shape, e.g. from ``order_factory``); a missing ``number``
        or ``uuid`` is assigned. A credit order is listed on the order it credits
        (``credit_order_numbers``, as Mijnwebwinkel does: NOTES.md §8). Returns the
        stored order."""
        order = copy.deepcopy(order)
        with self._lock:
            order.setdefault("number", self.next_number())
            order.setdefault("uuid", str(uuid.uuid4()))
            self.orders[str(order["number"])] = order
            original = self.orders.get(str(order.get("credited_order_number") or ""))
            if original is not None:
                listed = original.setdefault("credit_order_numbers", [])
                if order["number"] not in listed and str(order["number"]) not in listed:
                    listed.append(order["number"])
        return order

    def generate(
        self,
        count: int,
        seed: int | str = 0,
        kinds: list[str] | None = None,
        start: dt.datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Add ``count`` factory orders with the next numbers; dates run up to now."""
        now = _local(self._clock())
        start = start or now - dt.timedelta(minutes=305 * count, days=3)
        with self._lock:
            existing = [o for o in self.orders.values() if isinstance(o.get("number"), int)]
            orders = order_factory.make_orders(
                count,
                seed,
                start_number=self.next_number(),
                start=start,
                kinds=kinds,
                existing=existing,
            )
            for order in orders:
                changed = dt.datetime.fromisoformat(
                    f"{order['status_changed_date']} {order['status_changed_time']}"
                )
                if changed > now:  # no status changes in the future
                    order["status_changed_date"] = now.date().isoformat()
                    order["status_changed_time"] = now.strftime("%H:%M:%S")
                self.orders[str(order["number"])] = order
        return orders

    def set_status(
        self, number: int | str, status: int, at: dt.datetime | None = None
    ) -> dict[str, Any]:
        """Change an order's status; ``at`` (default: the simulator's clock) becomes
        ``status_changed_date``/``_time`` in shop-local time."""
        local = _local(at or self._clock())
        with self._lock:
            order = self.orders[str(number)]
            order["status"] = int(status)
            order["status_changed_date"] = local.date().isoformat()
            order["status_changed_time"] = local.strftime("%H:%M:%S")
            return order

    def pay(
        self,
        number: int | str,
        action: str,
        *,
        at: dt.datetime | None = None,
        amount: int | None = None,
        method: str | None = None,
    ) -> dict[str, Any]:
        """capture / refund / fail / authorize a payment of an order (minor units);
        ``at`` defaults to the simulator's clock."""
        with self._lock:
            order = self.orders[str(number)]
            return self.payments.act(
                order, action, at=at or self._clock(), amount=amount, method=method
            )


class Filters:
    """The order filters of ``GET /orders`` and ``/orders/count``, from a query."""

    def __init__(self, args: Any) -> None:
        self.start_date = _date_arg(args, "start_date")
        self.end_date = _date_arg(args, "end_date")
        self.changed_start = _local_arg(args, "status_changed_start_date", end=False)
        self.changed_end = _local_arg(args, "status_changed_end_date", end=True)
        self.status_id = int_arg(args, "status_id")
        self.archived = bool_arg(args, "archived")
        self.test = bool(bool_arg(args, "test"))
        self.debtor_email = (args.get("debtor_email") or "").strip().lower()

    def match(self, order: dict[str, Any]) -> bool:
        if is_test_order(order) and not self.test:
            return False
        if self.archived is not None and bool(order.get("archived")) != self.archived:
            return False
        if self.status_id is not None and order.get("status") != self.status_id:
            return False
        day = dt.date.fromisoformat(order["date"])
        if (self.start_date and day < self.start_date) or (self.end_date and day > self.end_date):
            return False
        if self.changed_start or self.changed_end:
            if not order.get("status_changed_date"):
                return False
            time = order.get("status_changed_time") or "00:00:00"
            changed = dt.datetime.fromisoformat(f"{order['status_changed_date']} {time}")
            if (self.changed_start and changed < self.changed_start) or (
                self.changed_end and changed > self.changed_end
            ):
                return False
        email = order.get("debtor", {}).get("email", "").lower()
        return not (self.debtor_email and email != self.debtor_email)


def int_arg(args: Any, name: str, default: int | None = None) -> int | None:
    value = args.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None


def bool_arg(args: Any, name: str) -> bool | None:
    value = args.get(name)
    if value in (None, ""):
        return None
    if value.lower() in ("1", "true"):
        return True
    if value.lower() in ("0", "false"):
        return False
    raise BadRequest(f"{name} must be true or false")


def _date_arg(args: Any, name: str) -> dt.date | None:
    value = args.get(name)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} must be a date (yyyy-mm-dd)") from None


def _local_arg(args: Any, name: str, *, end: bool) -> dt.datetime | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    try:
        if len(value) == 10:  # a bare date: the whole day
            day = dt.date.fromisoformat(value)
            return dt.datetime.combine(day, dt.time(23, 59, 59) if end else dt.time())
        return dt.datetime.strptime(value.replace("T", " "), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise BadRequest(f"{name} must be formatted yyyy-mm-dd hh:mm:ss") from None


def _rate_2dp(value: Any) -> str:
    return f"{Decimal(str(value)):.2f}"


def live_shape(order: dict[str, Any]) -> dict[str, Any]:
    """The spec-shaped order as the live API sends it (NOTES.md §10)."""
    order = copy.deepcopy(order)
    order["number"] = str(order["number"])
    price = order.get("price", {})
    for item in price.get("tax") if isinstance(price.get("tax"), list) else []:
        item["rate"] = _rate_2dp(item["rate"])
    if isinstance(price.get("tax"), list) and len(price["tax"]) == 1:
        price["tax"] = price["tax"][0]
    for line in order.get("orderlines", []):
        slices = line["price"] if isinstance(line["price"], list) else [line["price"]]
        for item in slices:
            item["rate"] = _rate_2dp(item["rate"])
        line.setdefault("id", str(uuid.uuid4()))
    if not order.get("shipping"):
        order["shipping"] = [{"country": []}]
    return order
