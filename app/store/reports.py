"""The period report's reads (payments of a period, open items, the register by invoice
number, the data version its cache is keyed by) and the bookkeeper's "akkoord" marks on
differences with e-Boekhouden (``report_accords``)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import ColumnElement, Engine, and_, delete, func, insert, select

from app.states import BookingKind, BookingState, OrderPayment, PaymentState
from app.store.db import booked_rows, bookings, payments, report_accords
from app.store.engine import aware, transaction, utcnow
from app.store.history_records import RegisterEntry
from app.store.payment_records import PaymentRecord, record

IN_LIST_CHUNK = 500
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class UnpaidInvoice:
    order_number: str
    invoice_number: str
    date: dt.date
    total: Decimal


@dataclass(frozen=True, slots=True)
class AccordRecord:
    kind: str
    invoice_number: str
    mutation_number: int
    difference: str
    note: str
    by_email: str
    at: dt.datetime


class ReportStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- payments and open items --------------------------------------------------------

    def invoice_numbers(self, shop_id: int, order_numbers: Iterable[str]) -> dict[str, str]:
        """The Factuurnummer each of these orders was booked with (its payments carry it)."""
        numbers = sorted(set(order_numbers))
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(numbers), 500):
                query = select(bookings.c.order_number, bookings.c.invoice_number).where(
                    bookings.c.shop_id == shop_id,
                    bookings.c.order_number.in_(numbers[start : start + 500]),
                )
                found.update({n: i for n, i in conn.execute(query) if i})
        return found

    def payments_between(
        self, shop_id: int, start: dt.date, end: dt.date, states: Iterable[PaymentState]
    ) -> list[PaymentRecord]:
        """The shop's payments dated in [start, end] in one of ``states``."""
        query = (
            select(payments)
            .where(
                payments.c.shop_id == shop_id,
                payments.c.payment_date >= start,
                payments.c.payment_date <= end,
                payments.c.state.in_([str(s) for s in states]),
            )
            .order_by(payments.c.payment_date, payments.c.id)
        )
        with self.engine.connect() as conn:
            return [record(row) for row in conn.execute(query)]

    def unpaid_between(self, shop_id: int, start: dt.date, end: dt.date) -> list[UnpaidInvoice]:
        """Booked invoices placed in [start, end] whose money has not all arrived."""
        query = (
            select(
                bookings.c.order_number,
                bookings.c.invoice_number,
                bookings.c.order_date,
                bookings.c.total,
            )
            .where(
                bookings.c.shop_id == shop_id,
                bookings.c.state == str(BookingState.BOOKED),
                bookings.c.kind == str(BookingKind.ORDER),
                bookings.c.payment_state == str(OrderPayment.OPEN),
                bookings.c.order_date >= dt.datetime.combine(start, dt.time()),
                bookings.c.order_date < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()),
            )
            .order_by(bookings.c.order_date, bookings.c.id)
        )
        with self.engine.connect() as conn:
            return [
                UnpaidInvoice(
                    r.order_number,
                    r.invoice_number or r.order_number,
                    r.order_date.date(),
                    Decimal(r.total or 0),
                )
                for r in conn.execute(query)
            ]

    # -- the register, by what e-Boekhouden shows ---------------------------------------

    def register(
        self, shop_id: int, invoice_numbers: Iterable[str], mutation_numbers: Iterable[int]
    ) -> tuple[dict[str, RegisterEntry], set[int]]:
        """The shop's bookings under these invoice numbers (case-insensitive), and which
        of these mutation numbers the connector booked (invoices and payments)."""
        wanted = sorted({n.strip().casefold() for n in invoice_numbers if n.strip()})
        numbers = sorted(set(mutation_numbers))
        found: dict[str, RegisterEntry] = {}
        known: set[int] = set()
        with self.engine.connect() as conn:
            for part in _chunks(wanted):
                query = select(bookings).where(
                    bookings.c.shop_id == shop_id,
                    func.lower(
                        func.coalesce(bookings.c.invoice_number, bookings.c.order_number)
                    ).in_(part),
                )
                for r in conn.execute(query):
                    entry = RegisterEntry(
                        r.order_number,
                        r.invoice_number or r.order_number,
                        BookingState(r.state),
                        BookingKind(r.kind),
                        r.mutation_number,
                        r.buyer_vat_number or "",
                        r.destination or "",
                    )
                    found[entry.invoice_number.casefold()] = entry
            for chunk in _chunks(numbers):
                known.update(
                    conn.execute(
                        select(bookings.c.mutation_number).where(
                            bookings.c.shop_id == shop_id, bookings.c.mutation_number.in_(chunk)
                        )
                    ).scalars()
                )
                known.update(
                    conn.execute(
                        select(payments.c.mutation_number).where(
                            payments.c.shop_id == shop_id, payments.c.mutation_number.in_(chunk)
                        )
                    ).scalars()
                )
        return found, known

    def data_version(self, shop_id: int) -> str:
        """Changes whenever anything the report reads from SQL changes for this shop: its
        bookings, booked rows, payments (and its settings, through ``shops.updated_at``,
        which the caller adds)."""
        parts = []
        with self.engine.connect() as conn:
            for table, column in (
                (bookings, bookings.c.updated_at),
                (payments, payments.c.updated_at),
                (booked_rows, booked_rows.c.id),
            ):
                row = conn.execute(
                    select(func.count(), func.max(column)).where(table.c.shop_id == shop_id)
                ).one()
                parts.append(f"{row[0]}:{row[1]}")
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    # -- akkoord ------------------------------------------------------------------------

    def accords(self, shop_id: int) -> list[AccordRecord]:
        query = select(report_accords).where(report_accords.c.shop_id == shop_id)
        with self.engine.connect() as conn:
            return [
                AccordRecord(
                    r.kind,
                    r.invoice_number,
                    r.mutation_number,
                    r.difference,
                    r.note,
                    r.by_email,
                    aware(r.at) or utcnow(),
                )
                for r in conn.execute(query)
            ]

    def set_accord(
        self,
        shop_id: int,
        key: tuple[str, str, int],
        *,
        difference: str,
        note: str,
        by_email: str,
    ) -> None:
        """Mark a difference akkoord (replacing an earlier mark on it)."""
        kind, invoice_number, mutation_number = key
        with transaction(self.engine) as conn:
            conn.execute(delete(report_accords).where(_accord(shop_id, key)))
            conn.execute(
                insert(report_accords).values(
                    shop_id=shop_id,
                    kind=kind,
                    invoice_number=invoice_number,
                    mutation_number=mutation_number,
                    difference=difference,
                    note=note,
                    by_email=by_email,
                    at=utcnow(),
                )
            )

    def drop_accord(self, shop_id: int, key: tuple[str, str, int]) -> bool:
        with transaction(self.engine) as conn:
            return bool(conn.execute(delete(report_accords).where(_accord(shop_id, key))).rowcount)


def _accord(shop_id: int, key: tuple[str, str, int]) -> ColumnElement[bool]:
    kind, invoice_number, mutation_number = key
    return and_(
        report_accords.c.shop_id == shop_id,
        report_accords.c.kind == kind,
        report_accords.c.invoice_number == invoice_number,
        report_accords.c.mutation_number == mutation_number,
    )


def _chunks(values: list[T]) -> Iterable[list[T]]:
    for start in range(0, len(values), IN_LIST_CHUNK):
        yield values[start : start + IN_LIST_CHUNK]
