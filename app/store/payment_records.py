"""The typed rows of the payments ledger (app/store/payments.py reads and writes them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.states import PaymentState
from app.store.engine import aware


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    id: int
    order_number: str
    payment_key: str
    kind: str
    method: str
    payment_date: dt.date
    amount: Decimal
    ledger: str | None
    state: PaymentState
    mutation_number: int | None
    attempts: int
    reason: str | None
    last_error: str | None
    uncertain: bool
    updated_at: dt.datetime | None
    sale_number: str | None = None  # the sale whose payments listing holds it


@dataclass(frozen=True, slots=True)
class PaymentRow:
    """What the plan says about one payment (app.core.payments.PlannedPayment)."""

    key: str
    kind: str
    method: str
    date: dt.date
    amount: Decimal
    ledger: str
    state: PaymentState  # HELD, NOT_BOOKED, MANUAL or PENDING
    reason: str = ""
    order_number: str = ""  # the invoice or credit note it is booked on (held: the sale)


@dataclass(frozen=True, slots=True)
class PaymentClaim:
    payment_id: int
    token: str
    needs_check: bool
    attempts: int


def record(row: Any) -> PaymentRecord:
    data = row._mapping
    day = data["payment_date"]
    return PaymentRecord(
        id=data["id"],
        order_number=data["order_number"],
        payment_key=data["payment_key"],
        kind=data["kind"],
        method=data["method"],
        payment_date=day.date() if isinstance(day, dt.datetime) else day,
        amount=Decimal(data["amount"]),
        ledger=data["ledger"],
        state=PaymentState(data["state"]),
        mutation_number=data["mutation_number"],
        attempts=data["attempts"],
        reason=data["reason"],
        last_error=data["last_error"],
        uncertain=bool(data["uncertain"]),
        updated_at=aware(data["updated_at"]),
        sale_number=data["sale_number"],
    )
