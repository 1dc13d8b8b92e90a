"""A booking's history: the rows it was booked with and every attempt (issue 17).

``insert_rows`` and ``insert_attempt`` run inside the caller's transaction (BookingStore's
mark_* methods), so a booking is never ``booked`` without its rows. ``HistoryStore``
reads them back for the booking page, the period report and the charts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy import Connection, Engine, func, insert, select

from app.core.mutations import Mutation, Soort
from app.states import BookingKind, BookingState
from app.store.db import booked_rows, booking_attempts, bookings
from app.store.engine import aware, utcnow
from app.store.history_records import Attempt, BookedRow, FailedAttempt, OrderState, PeriodRow

IN_LIST_CHUNK = 500


def rows_of(mutations: Sequence[Mutation], numbers: dict[str, int]) -> list[BookedRow]:
    """The rows of ``mutations`` with the mutation numbers e-Boekhouden gave them."""
    return [
        BookedRow(
            soort=str(m.soort),
            date=m.date,
            ledger=r.ledger,
            btw_code=r.btw_code,
            excl=r.amount_excl,
            vat=r.amount_vat,
            incl=r.amount_incl,
            invoice_number=m.invoice_number,
            mutation_number=numbers.get(m.soort),
            account=m.ledger,
            oss_country=r.oss_country,
            oss_rate=r.oss_rate,
            oss_vat=r.oss_vat,
        )
        for m in mutations
        for r in m.rows
    ]


def insert_rows(
    conn: Connection,
    booking_id: int,
    rows: Iterable[BookedRow],
    *,
    shop_id: int,
    replace: bool = True,
) -> None:
    """Replace the booking's rows (a booking is booked once; a re-mark replaces).
    ``replace=False``: the booking cannot have rows yet (its first claim), so there is
    nothing to delete first."""
    values = [
        {
            "booking_id": booking_id,
            "shop_id": shop_id,
            "soort": r.soort,
            "date": r.date,
            "ledger": r.ledger,
            "btw_code": r.btw_code,
            "excl": r.excl,
            "vat": r.vat,
            "incl": r.incl,
            "invoice_number": r.invoice_number,
            "mutation_number": r.mutation_number,
            "account": r.account or None,
            "oss_country": r.oss_country or None,
            "oss_rate": r.oss_rate,
            "oss_vat": r.oss_vat,
        }
        for r in rows
    ]
    if not values:
        return
    if replace:
        conn.execute(booked_rows.delete().where(booked_rows.c.booking_id == booking_id))
    conn.execute(insert(booked_rows), values)


_INSERT_ATTEMPT = insert(booking_attempts)  # built once; each attempt's values are parameters


def insert_attempt(
    conn: Connection,
    booking_id: int,
    outcome: BookingState,
    *,
    error_code: str | None = None,
    error_text: str | None = None,
    reason: str | None = None,
) -> None:
    conn.execute(
        _INSERT_ATTEMPT,
        {
            "booking_id": booking_id,
            "at": utcnow(),
            "outcome": str(outcome),
            "error_code": error_code,
            "error_text": error_text,
            "reason": reason,
        },
    )


def _booked_row(r: object) -> BookedRow:
    m = r._mapping  # type: ignore[attr-defined]
    return BookedRow(
        soort=m["soort"],
        date=m["date"],
        ledger=m["ledger"],
        btw_code=m["btw_code"],
        excl=Decimal(m["excl"]),
        vat=Decimal(m["vat"]),
        incl=Decimal(m["incl"]),
        invoice_number=m["invoice_number"],
        mutation_number=m["mutation_number"],
        account=m["account"] or "",
        oss_country=m["oss_country"] or "",
        oss_rate=Decimal(m["oss_rate"]) if m["oss_rate"] is not None else None,
        oss_vat=bool(m["oss_vat"]),
    )


class HistoryStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def rows(self, booking_id: int) -> list[BookedRow]:
        query = (
            select(booked_rows)
            .where(booked_rows.c.booking_id == booking_id)
            .order_by(booked_rows.c.id)
        )
        with self.engine.connect() as conn:
            return [_booked_row(r) for r in conn.execute(query)]

    def attempts(self, booking_id: int) -> list[Attempt]:
        query = (
            select(booking_attempts)
            .where(booking_attempts.c.booking_id == booking_id)
            .order_by(booking_attempts.c.id)
        )
        with self.engine.connect() as conn:
            return [
                Attempt(aware(r.at) or utcnow(), r.outcome, r.error_code, r.error_text, r.reason)
                for r in conn.execute(query)
            ]

    def period_rows(self, shop_id: int, start: dt.date, end: dt.date) -> list[PeriodRow]:
        """Every booked row of the shop dated in [start, end] (inclusive)."""
        query = (
            select(
                booked_rows,
                bookings.c.order_number,
                bookings.c.kind,
                bookings.c.buyer_vat_number,
                bookings.c.destination,
            )
            .join(bookings, bookings.c.id == booked_rows.c.booking_id)
            .where(
                booked_rows.c.shop_id == shop_id,
                booked_rows.c.date >= start,
                booked_rows.c.date <= end,
            )
            .order_by(booked_rows.c.date, booked_rows.c.id)
        )
        with self.engine.connect() as conn:
            return [
                PeriodRow(
                    r.booking_id,
                    r.order_number,
                    BookingKind(r.kind),
                    _booked_row(r),
                    r.buyer_vat_number or "",
                    r.destination or "",
                )
                for r in conn.execute(query)
            ]

    def turnover_by_day(
        self, shop_id: int, start: dt.date, end: dt.date
    ) -> list[tuple[dt.date, str, Decimal]]:
        """(date, BTW code, Σ excl) of the invoice rows (payments left out), summed in SQL
        (the overview's chart)."""
        query = (
            select(booked_rows.c.date, booked_rows.c.btw_code, func.sum(booked_rows.c.excl))
            .where(
                booked_rows.c.shop_id == shop_id,
                booked_rows.c.date >= start,
                booked_rows.c.date <= end,
                booked_rows.c.soort != str(Soort.FACTUURBETALING_ONTVANGEN),
            )
            .group_by(booked_rows.c.date, booked_rows.c.btw_code)
        )
        with self.engine.connect() as conn:
            return [
                (r[0], r[1], Decimal(r[2]).quantize(Decimal("0.01"))) for r in conn.execute(query)
            ]

    def order_states(self, shop_id: int, numbers: Iterable[str]) -> dict[str, OrderState]:
        """The register's row per order number, in few queries."""
        wanted = list(dict.fromkeys(numbers))
        found: dict[str, OrderState] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), IN_LIST_CHUNK):
                query = select(
                    bookings.c.id,
                    bookings.c.order_number,
                    bookings.c.state,
                    bookings.c.kind,
                    bookings.c.reason,
                    bookings.c.total,
                    bookings.c.payment_state,
                ).where(
                    bookings.c.shop_id == shop_id,
                    bookings.c.order_number.in_(wanted[start : start + IN_LIST_CHUNK]),
                )
                for r in conn.execute(query):
                    found[r.order_number] = OrderState(
                        r.id,
                        BookingState(r.state),
                        BookingKind(r.kind),
                        r.reason,
                        Decimal(r.total) if r.total is not None else None,
                        r.payment_state,
                    )
        return found

    def failures_after(self, shop_id: int, after_id: int) -> list[FailedAttempt]:
        """Failed attempts of the shop with an id above ``after_id`` (the alert digest)."""
        query = (
            select(
                booking_attempts.c.id,
                booking_attempts.c.at,
                booking_attempts.c.reason,
                booking_attempts.c.error_code,
                bookings.c.order_number,
                bookings.c.id.label("booking_id"),
                bookings.c.state,
            )
            .join(bookings, bookings.c.id == booking_attempts.c.booking_id)
            .where(
                bookings.c.shop_id == shop_id,
                booking_attempts.c.id > after_id,
                booking_attempts.c.outcome == str(BookingState.FAILED),
            )
            .order_by(booking_attempts.c.id)
        )
        with self.engine.connect() as conn:
            return [
                FailedAttempt(
                    r.id,
                    aware(r.at) or utcnow(),
                    r.order_number,
                    r.booking_id,
                    r.reason,
                    r.error_code,
                    r.state == str(BookingState.FAILED),
                )
                for r in conn.execute(query)
            ]

    def activity_since(
        self, shop_id: int, since: dt.datetime
    ) -> list[tuple[dt.datetime, BookingState]]:
        """(last change, state) of the shop's bookings changed since ``since`` (charts)."""
        query = select(bookings.c.updated_at, bookings.c.booked_at, bookings.c.state).where(
            bookings.c.shop_id == shop_id, bookings.c.updated_at >= since
        )
        with self.engine.connect() as conn:
            return [
                (aware(r.booked_at or r.updated_at) or utcnow(), BookingState(r.state))
                for r in conn.execute(query)
            ]
