"""What of a shop's money is open: one query set, typed rows with a Dutch reason each.

Read by the overview ("Openstaande posten"), the hourly digest (what became open since
the last one, each item once) and the Controle report. The kinds (app.states.OpenItemKind):

- HELD: a payment or refund held back (no ledger for its method, no credit order for a
  refund, more received or refunded than invoiced) or refused by e-Boekhouden;
- NOT_BOOKED: a payment whose method is set to "niet boeken": that part of the invoice
  stays open on the debtors ledger, for the bookkeeper;
- LAPSED: an invoice (credit note, cash order) whose money had not (all) come when the
  shop's payment lookback ended: the passes stop looking, so it is listed here;
- OVERDUE: an invoice unpaid past its payment term (still looked for).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select

from app.core.open_items import lapsed_reason, overdue_reason
from app.states import BookingKind, BookingState, OpenItemKind, OrderPayment, PaymentState
from app.store.db import bookings, payments
from app.store.engine import aware, utcnow

ZERO = Decimal("0")
UNSETTLED = (OrderPayment.OPEN, OrderPayment.HELD, OrderPayment.NOT_BOOKED)
HELD_STATES = (PaymentState.HELD, PaymentState.FAILED)


@dataclass(frozen=True, slots=True)
class OpenItem:
    kind: OpenItemKind
    order_number: str
    booking_id: int | None  # None: the order is not in the register (a held refund's sale)
    invoice_number: str  # the Factuurnummer it was booked with (else the order number)
    amount: Decimal  # what is open, signed (refunds and credit notes negative)
    date: dt.date  # the payment's date, or the invoice's
    since: dt.datetime  # when it became open (UTC): the digest reports each item once
    reason: str  # Dutch: what it is and what to do
    payment_id: int | None = None


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def open_items(
    conn: Any, shop_id: int, as_of: dt.date, lookback_days: int, term_days: int
) -> list[OpenItem]:
    items = _payment_items(conn, shop_id) + _invoice_items(
        conn, shop_id, as_of, lookback_days, term_days
    )
    return sorted(items, key=lambda i: (i.date, i.order_number, i.kind))


def _payment_items(conn: Any, shop_id: int) -> list[OpenItem]:
    booking = and_(
        bookings.c.shop_id == payments.c.shop_id,
        bookings.c.order_number == payments.c.order_number,
    )
    query = (
        select(
            payments.c.id,
            payments.c.order_number,
            payments.c.state,
            payments.c.amount,
            payments.c.payment_date,
            payments.c.reason,
            payments.c.updated_at,
            bookings.c.id.label("booking_id"),
            bookings.c.invoice_number,
        )
        .select_from(payments.outerjoin(bookings, booking))
        .where(
            payments.c.shop_id == shop_id,
            payments.c.state.in_([str(s) for s in (*HELD_STATES, PaymentState.NOT_BOOKED)]),
        )
    )
    items = []
    for r in conn.execute(query):
        kind = OpenItemKind.NOT_BOOKED if r.state == PaymentState.NOT_BOOKED else OpenItemKind.HELD
        day = r.payment_date.date() if isinstance(r.payment_date, dt.datetime) else r.payment_date
        items.append(
            OpenItem(
                kind,
                r.order_number,
                r.booking_id,
                r.invoice_number or r.order_number,
                Decimal(r.amount),
                day,
                aware(r.updated_at) or utcnow(),
                r.reason or "",
                r.id,
            )
        )
    return items


def _invoice_items(
    conn: Any, shop_id: int, as_of: dt.date, lookback_days: int, term_days: int
) -> list[OpenItem]:
    received = (
        select(payments.c.order_number, func.sum(payments.c.amount).label("received"))
        .where(
            payments.c.shop_id == shop_id,
            payments.c.state.not_in([str(s) for s in HELD_STATES]),
        )
        .group_by(payments.c.order_number)
        .subquery()
    )
    query = (
        select(
            bookings.c.id,
            bookings.c.order_number,
            bookings.c.invoice_number,
            bookings.c.kind,
            bookings.c.state,
            bookings.c.total,
            bookings.c.order_date,
            received.c.received,
        )
        .select_from(
            bookings.outerjoin(received, received.c.order_number == bookings.c.order_number)
        )
        .where(
            bookings.c.shop_id == shop_id,
            bookings.c.payment_state.in_([str(s) for s in UNSETTLED]),
            bookings.c.state != str(BookingState.FAILED),
            bookings.c.order_date.is_not(None),
            bookings.c.total.is_not(None),
        )
    )
    items = []
    for r in conn.execute(query):
        day = r.order_date.date() if isinstance(r.order_date, dt.datetime) else r.order_date
        open_amount = Decimal(r.total) - Decimal(r.received or 0)
        if open_amount == ZERO or (open_amount < ZERO) != (Decimal(r.total) < ZERO):
            continue
        booked = r.state == BookingState.BOOKED
        number = r.invoice_number or r.order_number
        lapses = day + dt.timedelta(days=lookback_days + 1)  # the first day not looked at
        due = day + dt.timedelta(days=term_days)
        if as_of >= lapses:
            reason = lapsed_reason(number, day, open_amount, lookback_days, booked)
            kind, since = OpenItemKind.LAPSED, _midnight(lapses)
        elif booked and r.kind == BookingKind.ORDER and term_days and as_of > due:
            reason = overdue_reason(number, day, open_amount, term_days)
            kind, since = OpenItemKind.OVERDUE, _midnight(due + dt.timedelta(days=1))
        else:
            continue
        items.append(OpenItem(kind, r.order_number, r.id, number, open_amount, day, since, reason))
    return items
