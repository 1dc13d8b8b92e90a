"""The typed rows of the bookings ledger (app/store/bookings.py reads and writes them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.states import BookingKind, BookingState
from app.store.engine import aware


@dataclass(frozen=True, slots=True)
class BookingRecord:
    """One row of the register: an order's progress towards e-Boekhouden."""

    id: int
    shop_id: int
    order_number: str
    order_uuid: str | None
    kind: BookingKind
    state: BookingState
    mutation_number: int | None
    payment_mutation_number: int | None
    relation_code: str | None
    invoice_number: str | None
    warnings: str | None
    order_date: dt.datetime | None
    total: Decimal | None
    attempts: int
    error_code: str | None
    last_error: str | None
    reason: str | None
    claim_token: str | None
    claimed_until: dt.datetime | None
    uncertain: bool
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    booked_at: dt.datetime | None
    payment_state: str | None = None  # app.states.OrderPayment, NULL when not tracked
    destination: str | None = None  # the VAT destination (app.core.destination.vat_facts)
    buyer_vat_number: str | None = None  # an ICP sale's buyer
    oss_amounts: list[dict[str, str]] | None = None  # app.core.oss.OssAmount.to_json()
    booking_mode: str | None = None  # app.states.BookingMode it was claimed in
    failure_cause: str | None = None  # app.states.FailureCause of a failed row
    customer: str | None = None  # the invoice's company or name (migration i27)


def record(row: Any) -> BookingRecord:
    data = dict(row._mapping)
    for key in ("claimed_until", "created_at", "updated_at", "booked_at"):
        data[key] = aware(data[key])
    data["uncertain"] = bool(data["uncertain"])
    data["state"] = BookingState(data["state"])
    data["kind"] = BookingKind(data["kind"])
    return BookingRecord(**data)


@dataclass(frozen=True, slots=True)
class Claim:
    """The right to post one order until its lease ends."""

    booking_id: int
    token: str
    needs_check: bool  # a previous post may have reached e-Boekhouden
    attempts: int
    invoice_number: str | None = None  # the Factuurnummer fixed at the first claim


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What the register keeps of an order besides its state."""

    uuid: str | None = None
    kind: str = BookingKind.ORDER
    total: Decimal | None = None
    date: dt.date | None = None
    invoice_number: str | None = None
    # The VAT facts of a mapped order (see BookingRecord); None when it was not mapped.
    destination: str | None = None
    buyer_vat_number: str | None = None
    oss_amounts: list[dict[str, str]] | None = None
    customer: str | None = None

    def values(self, shop_id: int, order_number: str) -> dict[str, Any]:
        return {
            "shop_id": shop_id,
            "order_number": order_number,
            "order_uuid": self.uuid or None,
            "kind": str(self.kind),
            "total": self.total,
            "invoice_number": self.invoice_number or None,
            "order_date": dt.datetime.combine(self.date, dt.time()) if self.date else None,
            "destination": self.destination or None,
            "buyer_vat_number": self.buyer_vat_number or None,
            "oss_amounts": self.oss_amounts or None,
            "customer": (self.customer or "")[:200] or None,
        }


@dataclass(frozen=True, slots=True)
class BookingNote:
    """A booked order whose booking carries notes for a person (the alert digest)."""

    attempt_id: int  # the booked attempt (booking_attempts.id)
    at: dt.datetime
    order_number: str
    booking_id: int
    notes: str  # Dutch, one per line
