"""The typed rows of a booking's history (app/store/history.py writes and reads them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from app.states import BookingKind, BookingState


@dataclass(frozen=True, slots=True)
class BookedRow:
    """One ``MutatieRegel`` as it went to e-Boekhouden."""

    soort: str
    date: dt.date
    ledger: str
    btw_code: str
    excl: Decimal
    vat: Decimal
    incl: Decimal
    invoice_number: str
    mutation_number: int | None = None
    account: str = ""  # the mutation's Rekening ("" for rows booked before issue 25)
    oss_country: str = ""  # OSS rows: the destination country
    oss_rate: Decimal | None = None  # OSS rows: its VAT rate
    oss_vat: bool = False  # the OSS row that carries that country's VAT


@dataclass(frozen=True, slots=True)
class PeriodRow:
    """A booked row with the booking it belongs to (the report's input)."""

    booking_id: int
    order_number: str
    kind: BookingKind
    row: BookedRow
    vat_number: str = ""  # the buyer's, as booked (opgaaf ICP)
    country: str = ""  # the destination, as booked


@dataclass(frozen=True, slots=True)
class Attempt:
    at: dt.datetime
    outcome: str
    error_code: str | None
    error_text: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class FailedAttempt:
    id: int
    at: dt.datetime
    order_number: str
    booking_id: int
    reason: str | None
    error_code: str | None
    still_failed: bool = True  # the booking is failed now (not fixed since this attempt)


@dataclass(frozen=True, slots=True)
class OrderState:
    """What the register knows of one order number (the report's comparison)."""

    booking_id: int
    state: BookingState
    kind: BookingKind
    reason: str | None
    total: Decimal | None
    payment_state: str | None = None  # app.states.OrderPayment


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """A booking found by the invoice number it was booked with (the books' comparison)."""

    order_number: str
    invoice_number: str
    state: BookingState
    kind: BookingKind
    mutation_number: int | None
    vat_number: str
    country: str
