"""Orders for the benchmarks and the chaos suite: ``sandbox.order_factory`` orders whose
status changed just now (so every reconcile window sees them)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sandbox import order_factory

SHOP_TZ = ZoneInfo("Europe/Amsterdam")
# Kinds the default mapping books (OSS needs rows the default settings do not have).
BOOKABLE_KINDS = ("domestic", "mixed_rates", "reverse_charge", "export")


def shop_now() -> dt.datetime:
    return dt.datetime.now(SHOP_TZ).replace(tzinfo=None, microsecond=0)


def make_orders(
    n: int,
    *,
    seed: int | str,
    start_number: int,
    kinds: tuple[str, ...] | list[str] | None = None,
    status: int | None = None,
    changed_at: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """``n`` orders numbered from ``start_number``, placed in the past, status changed at
    ``changed_at`` (default now, shop-local). ``status`` forces the status of every
    non-credit order (credits keep their credit status)."""
    changed = changed_at or shop_now()
    start = changed - dt.timedelta(minutes=605 * n + 60)
    orders = order_factory.make_orders(
        n, seed, start_number=start_number, start=start, kinds=list(kinds) if kinds else None
    )
    for order in orders:
        if status is not None and order["status"] not in order_factory.CREDIT_STATUSES:
            order["status"] = status
        order["status_changed_date"] = changed.date().isoformat()
        order["status_changed_time"] = changed.strftime("%H:%M:%S")
    return orders
