"""The payments register, read: an order's payments, a sale's family of rows, the methods
seen, what waits for money (the passes and "wacht op betaling"), what is open (the
overview, the digest, the Controle report). PaymentStore (app/store/payments.py) adds
the writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select

from app.states import BookingState, OrderPayment
from app.store.db import bookings, payments
from app.store.open_items import OpenItem, open_items
from app.store.payment_records import PaymentRecord, record

IN_LIST_CHUNK = 500
# An order's money not settled: waiting for it, a payment held back, or a part not booked
# ("niet boeken": the passes keep looking, so a ledger chosen later books it).
AWAITING = (OrderPayment.OPEN, OrderPayment.HELD, OrderPayment.NOT_BOOKED)
# … on an order whose booking is not failed (a failed invoice waits for a person, not for
# money): "wacht op betaling", and what the passes check.
_AWAITING = and_(
    bookings.c.payment_state.in_([str(s) for s in AWAITING]),
    bookings.c.state != str(BookingState.FAILED),
)


def payments_of_order(conn: Any, shop_id: int, order_number: str) -> list[PaymentRecord]:
    query = (
        select(payments)
        .where(payments.c.shop_id == shop_id, payments.c.order_number == order_number)
        .order_by(payments.c.payment_date, payments.c.id)
    )
    return [record(row) for row in conn.execute(query)]


def family_rows(
    conn: Any, shop_id: int, sale_number: str, members: Iterable[str]
) -> list[PaymentRecord]:
    """The rows of one sale's money: recorded under the sale, plus rows from before the
    sale was stored (NULL) booked on the sale or one of its credit notes (``members``)."""
    numbers = list(dict.fromkeys([sale_number, *members]))
    query = (
        select(payments)
        .where(
            payments.c.shop_id == shop_id,
            or_(
                payments.c.sale_number == sale_number,
                and_(payments.c.sale_number.is_(None), payments.c.order_number.in_(numbers)),
            ),
        )
        .order_by(payments.c.payment_date, payments.c.id)
    )
    return [record(row) for row in conn.execute(query)]


class PaymentQueries:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def for_order(self, shop_id: int, order_number: str) -> list[PaymentRecord]:
        with self.engine.connect() as conn:
            return payments_of_order(conn, shop_id, order_number)

    def methods_seen(self, shop_id: int) -> list[str]:
        """Every payment method seen on this shop's orders."""
        query = (
            select(payments.c.method)
            .where(payments.c.shop_id == shop_id, payments.c.method != "")
            .distinct()
            .order_by(payments.c.method)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def count_awaiting(self, shop_id: int) -> int:
        """Orders waiting for money or with a payment held back ("wacht op betaling")."""
        query = (
            select(func.count())
            .select_from(bookings)
            .where(bookings.c.shop_id == shop_id, _AWAITING)
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def needs_settling(self, shop_id: int, order_number: str) -> bool:
        """True when this order's money is followed and not settled (one indexed read):
        the job's fast path goes on for it, a settled or untracked order costs no call."""
        with self.engine.connect() as conn:
            state = conn.execute(
                select(bookings.c.payment_state).where(
                    bookings.c.shop_id == shop_id, bookings.c.order_number == order_number
                )
            ).scalar()
        return state in {str(s) for s in AWAITING}

    def family(self, shop_id: int, sale_number: str, members: Iterable[str]) -> list[PaymentRecord]:
        with self.engine.connect() as conn:
            return family_rows(conn, shop_id, sale_number, members)

    def open_items(
        self, shop_id: int, as_of: dt.date, *, lookback_days: int, term_days: int
    ) -> list[OpenItem]:
        """What of this shop's money is open on ``as_of`` (app/store/open_items.py): held
        or refused payments and refunds, parts on "niet boeken", invoices unpaid past the
        lookback or past their payment term. Typed rows with a Dutch reason each."""
        with self.engine.connect() as conn:
            return open_items(conn, shop_id, as_of, lookback_days, term_days)

    def outstanding(
        self, shop_id: int, since: dt.date | None, among: Iterable[str] | None = None
    ) -> list[str]:
        """Orders (placed on or after ``since``; None: whenever) whose money is not
        settled: waiting for a capture, or with a payment held back or still to be
        posted. ``among`` limits the answer to these numbers (the fast poll: orders that
        changed, which are looked at whatever their age: late money)."""
        where = [bookings.c.shop_id == shop_id, _AWAITING]
        if since is not None:
            where.append(
                and_(
                    bookings.c.order_date.is_not(None),
                    bookings.c.order_date >= dt.datetime.combine(since, dt.time()),
                )
            )
        query = select(bookings.c.order_number).where(*where).order_by(bookings.c.order_date)
        with self.engine.connect() as conn:
            if among is None:
                return list(conn.execute(query).scalars())
            numbers, found = list(dict.fromkeys(among)), list[str]()
            for start in range(0, len(numbers), IN_LIST_CHUNK):
                chunk = numbers[start : start + IN_LIST_CHUNK]
                found += conn.execute(query.where(bookings.c.order_number.in_(chunk))).scalars()
            return found
