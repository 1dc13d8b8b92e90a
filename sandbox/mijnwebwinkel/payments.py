"""The simulated payments of a shop's orders: ``GET /orders/{n}/payments`` as the spec's
``{"payments": [Payment]}`` (prices in minor units, ``mutations`` of type authorize,
capture, failed, refund, void).

An order nobody set payments for gets them from its deprecated fields the first time
they are read: ``payment_status`` "captured" → one payment captured in full at the
order's date and time; anything else → one authorized payment (or none for
"op rekening"/bank transfer: the money has not been asked for yet). From then on the
control API adds to the record: ``capture``, ``refund``, ``fail`` (a failed payment
attempt), ``authorize``; a capture that completes the order also sets its deprecated
``payment_status`` to "captured" (a refund in full: "refunded").
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import uuid
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

SHOP_TZ = ZoneInfo("Europe/Amsterdam")
GATEWAYS = {  # method → gateway (PaymentGatewayList): "basic" for manual payments
    "ideal": "mollie",
    "bancontact": "mollie",
    "creditcard": "mollie",
    "paypal": "paypal",
    "klarna_paylater": "mollie",
    "bank_transfer": "basic",
    "in_arrears": "basic",
    "cash": "basic",
    "pickup": "basic",
    "card": "sumup",
    "webshop_giftcard": "basic",
}
UNASKED = ("in_arrears", "bank_transfer", "invoice")  # no payment until the customer pays
_ids = itertools.count(1000)


def _utc_text(at: dt.datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=SHOP_TZ)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def cents(value: Any) -> int:
    return int((Decimal(str(value)) * 100).to_integral_value())


class PaymentBook:
    """All payments of one shop, per order number (``str``)."""

    def __init__(self, store_id: str) -> None:
        self.store_id = store_id
        self.by_order: dict[str, list[dict[str, Any]]] = {}

    def listing(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        number = str(order["number"])
        if number not in self.by_order:
            self.by_order[number] = self._from_order(order)
        return copy.deepcopy(self.by_order[number])

    def set(self, number: str, payments: list[dict[str, Any]]) -> None:
        """Replace the record (``[]``: an empty listing)."""
        self.by_order[str(number)] = copy.deepcopy(payments)

    def act(
        self,
        order: dict[str, Any],
        action: str,
        *,
        at: dt.datetime,
        amount: int | None = None,
        method: str | None = None,
    ) -> dict[str, Any]:
        """capture | refund | fail | authorize; ``amount`` in minor units (default: the
        order total, or what is left of it). Returns the payment touched."""
        payments = self.by_order.setdefault(str(order["number"]), self._from_order(order))
        total = cents(order["price"]["total"])
        method = method or str((order.get("payment") or {}).get("method_name") or "ideal")
        if action == "fail":
            payment = self._new(order, method, at, total)
            payment["mutations"].append(self._mutation("failed", total, at))
            payments.append(payment)
            return payment
        open_ = [
            p
            for p in payments
            if p["method"].split(":")[0] == method.split(":")[0]
            and not any(m["type"] in ("failed", "void") for m in p["mutations"])
        ]
        payment = open_[-1] if open_ else None
        if payment is None:
            payment = self._new(order, method, at, total)
            payments.append(payment)
        captured = sum(_sum(p, "capture") for p in payments)
        refunded = sum(_sum(p, "refund") for p in payments)
        if action == "capture":
            amount = amount if amount is not None else max(total - captured, 0)
            payment["mutations"].append(self._mutation("capture", amount, at))
            if captured + amount >= total:
                order["payment_status"] = "captured"
                order.setdefault("payment", {})["status"] = {"id": 1, "text": "Successful"}
        elif action == "refund":
            amount = amount if amount is not None else max(captured - refunded, 0)
            payment["mutations"].append(self._mutation("refund", amount, at))
            if refunded + amount >= captured:
                order["payment_status"] = "refunded"
                order.setdefault("payment", {})["status"] = {"id": 7, "text": "Refunded"}
        elif action == "authorize":
            payment["mutations"].append(self._mutation("authorize", amount or total, at))
        else:
            raise ValueError(f"unknown payment action {action!r}")
        payment["updatedAt"] = _utc_text(at)
        return copy.deepcopy(payment)

    def _from_order(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        summary = order.get("payment") or {}
        method = str(summary.get("method_name") or "")
        if not method or str(order.get("credited_order_number") or ""):
            return []  # credit orders carry no payment information of their own
        at = dt.datetime.fromisoformat(f"{order['date']} {order.get('time') or '12:00:00'}")
        total = cents(order["price"]["total"])
        status = order.get("payment_status")
        if status not in ("captured", "refunded") and method in UNASKED:
            return []
        payment = self._new(order, method, at, total)
        payment["mutations"].append(self._mutation("authorize", total, at))
        if status in ("captured", "refunded"):
            payment["mutations"].append(self._mutation("capture", total, at))
        if status == "refunded":
            payment["mutations"].append(self._mutation("refund", total, at))
        return [payment]

    def _new(
        self, order: dict[str, Any], method: str, at: dt.datetime, total: int
    ) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "gateway": GATEWAYS.get(method.split(":")[0], "mollie"),
            "method": method,
            "gatewayReference": f"tr_{next(_ids)}",
            "price": total,
            "currency": "EUR",
            "storeId": self.store_id,
            "reference": str(order.get("uuid") or uuid.uuid4()),
            "isTest": False,
            "createdAt": _utc_text(at),
            "updatedAt": None,
            "mutations": [],
        }

    @staticmethod
    def _mutation(kind: str, amount: int, at: dt.datetime) -> dict[str, Any]:
        return {
            "id": next(_ids),
            "type": kind,
            "reference": None,
            "price": amount,
            "description": None,
            "createdAt": _utc_text(at),
            "expiresAt": None,
        }


def _sum(payment: dict[str, Any], kind: str) -> int:
    return sum(int(m["price"]) for m in payment["mutations"] if m["type"] == kind)
