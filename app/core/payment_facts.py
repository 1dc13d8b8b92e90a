"""PURE: the payment facts of an order, from Mijnwebwinkel's JSON.

The payments listing (``GET /orders/{n}/payments``, the spec's ``Payment``) is parsed by
``parse_payments``; the order's deprecated ``payment_status`` / ``payment`` fields by
``order_payment_fields`` (for ``app.core.order_schema``) and ``facts_from_order``.
``choose_facts`` decides which source wins (docs/booking-rules.md, "Payments").
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from app.core.orders import Order

ZERO = Decimal("0")
SHOP_TZ = ZoneInfo("Europe/Amsterdam")
CAPTURE, REFUND = "capture", "refund"
SOURCE_LISTING, SOURCE_ORDER = "listing", "order"

METHOD_LABELS = {
    "ideal": "iDEAL",
    "bancontact": "Bancontact",
    "creditcard": "creditcard",
    "paypal": "PayPal",
    "bank_transfer": "bankoverschrijving",
    "in_arrears": "op rekening",
    "cash": "contant",
    "pickup": "betalen bij afhalen",
    "card": "pin",
    "webshop_giftcard": "cadeaubon (webwinkel)",
    "podium_giftcard": "cadeaubon (Podium)",
    "klarna_paylater": "Klarna achteraf betalen",
    "afterpay": "AfterPay",
    "invoice": "factuur",
    "rembours": "rembours",
    "advance": "vooruitbetaling",
}


def method_key(method: str) -> str:
    """``ideal:ideal_INGBNL2A`` → ``ideal``: the issuer does not change the ledger."""
    return method.split(":", 1)[0].strip().lower()


def method_label(method: str) -> str:
    key = method_key(method)
    return METHOD_LABELS.get(key, key or "onbekend")


@dataclass(frozen=True, slots=True)
class MoneyMovement:
    """Money that moved: a capture (in) or a refund (out), always a positive amount."""

    key: str  # stable per movement: "<payment id>:<mutation id>", or "order:captured"
    kind: str  # CAPTURE | REFUND
    date: dt.date  # shop-local
    amount: Decimal
    method: str  # method_key(...)


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    movements: tuple[MoneyMovement, ...]
    source: str  # SOURCE_LISTING | SOURCE_ORDER
    methods: tuple[str, ...] = ()  # every method seen, also of pending or failed payments

    def of_kind(self, kind: str) -> list[MoneyMovement]:
        return sorted((m for m in self.movements if m.kind == kind), key=lambda m: (m.date, m.key))


def parse_payments(data: Any) -> PaymentFacts:
    """The spec's ``{"payments": [Payment]}`` (or a bare list). ``price`` is in minor
    units; test payments and non-EUR payments are left out, as are authorize, void and
    failed mutations (their methods are still reported)."""
    items = data.get("payments") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError("expected a list of payments")
    movements: list[MoneyMovement] = []
    methods: list[str] = []
    for payment in items:
        if not isinstance(payment, dict) or payment.get("isTest") is True:
            continue
        method = method_key(str(payment.get("method") or ""))
        if method and method not in methods:
            methods.append(method)
        if str(payment.get("currency") or "EUR").upper() != "EUR":
            continue
        for mutation in payment.get("mutations") or ():
            kind = str(mutation.get("type") or "")
            if kind not in (CAPTURE, REFUND):
                continue
            amount = _minor_units(mutation.get("price"))
            when = _local_date(mutation.get("createdAt") or payment.get("createdAt"))
            if amount is None or amount <= ZERO or when is None:
                continue
            key = f"{payment.get('id') or payment.get('reference')}:{mutation.get('id')}"
            movements.append(MoneyMovement(key[:100], kind, when, amount, method))
    return PaymentFacts(tuple(movements), SOURCE_LISTING, tuple(methods))


def facts_from_order(order: Order) -> PaymentFacts:
    """The deprecated fields: "captured" (or status 1) is the order total received on
    the day the order reached its status (its date when unknown); "refunded" (7) is that
    and a refund of it. No partial payments can be seen this way."""
    method = method_key(order.payment_method)
    methods = (method,) if method else ()
    captured = order.payment_status in ("captured", "refunded") or order.payment_status_id in (1, 7)
    if not captured or order.total <= ZERO:
        return PaymentFacts((), SOURCE_ORDER, methods)
    day = order.status_changed_at.date() if order.status_changed_at else order.date
    moves = [MoneyMovement("order:captured", CAPTURE, day, order.total, method)]
    if order.payment_status == "refunded" or order.payment_status_id == 7:
        moves.append(MoneyMovement("order:refunded", REFUND, day, order.total, method))
    return PaymentFacts(tuple(moves), SOURCE_ORDER, methods)


def choose_facts(listing: PaymentFacts | None, order: Order) -> PaymentFacts:
    """The listing when it shows money moving, else the order's deprecated fields."""
    if listing is not None and listing.movements:
        return listing
    fallback = facts_from_order(order)
    if listing is not None and not fallback.movements:
        return listing  # nothing anywhere: keep the listing's methods
    return fallback


def _minor_units(value: Any) -> Decimal | None:
    try:
        return (Decimal(str(value)) / 100).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        return None


def _local_date(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        at = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if at.tzinfo is None:
        return at.date()
    return at.astimezone(SHOP_TZ).date()


def order_payment_fields(status: Any, payment: Any) -> dict[str, Any]:
    """The deprecated ``payment_status`` (a string; some responses nest ``{id, text}``)
    and ``payment`` summary as ``Order`` fields, leniently: they are only a fallback."""
    fields_: dict[str, Any] = {}
    if isinstance(status, dict):
        status = status.get("text") or ""
    fields_["payment_status"] = str(status or "").strip().lower()
    if isinstance(payment, dict):
        fields_["payment_method"] = str(payment.get("method_name") or "").strip()
        nested = payment.get("status")
        if isinstance(nested, dict):
            with contextlib.suppress(TypeError, ValueError):
                fields_["payment_status_id"] = int(nested.get("id"))  # type: ignore[arg-type]
    return fields_
