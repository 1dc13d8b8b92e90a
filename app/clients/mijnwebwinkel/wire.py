"""Mijnwebwinkel's JSON shapes ↔ ``app.core.orders`` types, and query-parameter texts.

Orders themselves are parsed by ``app.core.order_schema``; here are the wrappers around
them (the live API wraps some lists and objects the spec documents as bare, NOTES.md §10),
the small objects (order statuses, the store) and the shop-local date and time texts the
filters take.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from app.clients.mijnwebwinkel.errors import bad_shape
from app.core.orders import OrderStatus, ShopInfo

SHOP_TZ = ZoneInfo("Europe/Amsterdam")
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # the status_changed_* filters' format


def unwrap_list(data: Any, *keys: str) -> list[Any] | None:
    """A bare JSON array, or one wrapped in an object (``{"orders": [...]}``: the live
    API wraps some lists the spec documents as bare arrays, NOTES.md §10)."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in keys:
            if isinstance(data.get(key), list):
                return data[key]
        if len(data) == 1 and isinstance(next(iter(data.values())), list):
            return next(iter(data.values()))
    return None


def unwrap_object(data: Any, key: str) -> Any:
    """``data[key]`` when ``data`` is exactly ``{key: ...}``, else ``data``."""
    if isinstance(data, dict) and set(data) == {key}:
        return data[key]
    return data


def order_statuses(data: Any) -> list[OrderStatus]:
    """The answer of ``GET /orderstatuses``."""
    items = unwrap_list(data, "orderstatuses", "statuses")
    if items is None:
        raise bad_shape("order_statuses", "expected a list")
    statuses = []
    for item in items:
        try:
            statuses.append(
                OrderStatus(
                    status=int(item["status"]),
                    description=str(item.get("description") or ""),
                    credit_order=item.get("credit_order") in (True, 1, "1", "true"),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise bad_shape("order_statuses", "an entry without status") from None
    return statuses


def store(data: Any) -> ShopInfo:
    """The answer of ``GET /store``."""
    data = unwrap_object(data, "store")
    if not isinstance(data, dict) or not data.get("id"):
        raise bad_shape("store", "no store id")
    known = {"id", "name", "currency", "region_code"}
    return ShopInfo(
        id=str(data["id"]),
        name=str(data.get("name") or ""),
        currency=str(data.get("currency") or "EUR").upper(),
        region_code=str(data.get("region_code") or "").upper(),
        extra={k: v for k, v in data.items() if k not in known},
    )


def payment_methods(data: Any) -> list[tuple[str, str]]:
    """The answer of ``GET /payment/stores/{store}/gateways``: every method of every
    gateway, as (name, display name), each name once."""
    gateways = unwrap_list(data, "gateways")
    if gateways is None:
        raise bad_shape("payment_methods", "expected a list of gateways")
    methods: dict[str, str] = {}
    for gateway in gateways:
        for method in (gateway.get("methods") or []) if isinstance(gateway, dict) else []:
            name = str(method.get("name") or "").split(":", 1)[0].strip().lower()
            if name:
                methods.setdefault(name, str(method.get("displayName") or name))
    return list(methods.items())


def count(data: Any) -> int:
    """The answer of ``GET /orders/count``."""
    value = data.get("count") if isinstance(data, dict) else data
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise bad_shape("count_orders", "no integer 'count'") from None


def local_text(value: dt.datetime) -> str:
    """A shop-local "yyyy-mm-dd hh:mm:ss"; aware datetimes are converted first."""
    if value.tzinfo is not None:
        value = value.astimezone(SHOP_TZ).replace(tzinfo=None)
    return value.strftime(DATETIME_FORMAT)


def date_text(value: dt.date) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat()


def param_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return local_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
