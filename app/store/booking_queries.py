"""The bookings register, read: one booking, the booked numbers (for the Redis fast
path), states of many orders (the passes), stuck claims, counts and pages (the pages).
BookingStore (app/store/bookings.py) adds the writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Connection, Engine, and_, func, select

from app.states import BookingState
from app.store.booking_records import BookingNote, BookingRecord, record
from app.store.db import booking_attempts, bookings
from app.store.engine import aware, utcnow

State = BookingState
IN_LIST_CHUNK = 500  # keep IN (...) lists modest


def get_booking(conn: Connection, shop_id: int, order_number: str) -> BookingRecord | None:
    row = conn.execute(
        select(bookings).where(
            bookings.c.shop_id == shop_id, bookings.c.order_number == order_number
        )
    ).first()
    return record(row) if row else None


class BookingQueries:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- reading ----------------------------------------------------------------------

    def get(self, shop_id: int, order_number: str) -> BookingRecord | None:
        with self.engine.connect() as conn:
            return get_booking(conn, shop_id, order_number)

    def get_for_shop(self, shop_id: int, booking_id: int) -> BookingRecord | None:
        """A booking by id, only if it belongs to this shop."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(bookings).where(bookings.c.id == booking_id, bookings.c.shop_id == shop_id)
            ).first()
        return record(row) if row else None

    def notes_after(self, shop_id: int, after_id: int) -> list[BookingNote]:
        """Orders booked in an attempt with an id above ``after_id`` whose booking carries
        notes (an ICP sale on the buyer's own relation, a relation that kept other details,
        an invoice date in an earlier VAT period, …): the alert digest lists them."""
        query = (
            select(
                booking_attempts.c.id,
                booking_attempts.c.at,
                bookings.c.order_number,
                bookings.c.id.label("booking_id"),
                bookings.c.warnings,
            )
            .join(bookings, bookings.c.id == booking_attempts.c.booking_id)
            .where(
                bookings.c.shop_id == shop_id,
                booking_attempts.c.id > after_id,
                booking_attempts.c.outcome == str(State.BOOKED),
                bookings.c.warnings.is_not(None),
            )
            .order_by(booking_attempts.c.id)
        )
        with self.engine.connect() as conn:
            return [
                BookingNote(r.id, aware(r.at) or utcnow(), r.order_number, r.booking_id, r.warnings)
                for r in conn.execute(query)
            ]

    def booked_numbers(self, shop_id: int, since: dt.datetime | None = None) -> list[str]:
        """For rebuilding the Redis fast path: with ``since``, only orders booked since
        then (a booked row without ``booked_at`` counts by its last change)."""
        query = select(bookings.c.order_number).where(
            bookings.c.shop_id == shop_id, bookings.c.state == str(State.BOOKED)
        )
        if since is not None:
            query = query.where(func.coalesce(bookings.c.booked_at, bookings.c.updated_at) >= since)
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def states_of(self, shop_id: int, order_numbers: Iterable[str]) -> dict[str, BookingState]:
        """State per order number, for many numbers in few queries (reconciler)."""
        numbers = list(dict.fromkeys(order_numbers))
        states: dict[str, BookingState] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(numbers), IN_LIST_CHUNK):
                query = select(bookings.c.order_number, bookings.c.state).where(
                    bookings.c.shop_id == shop_id,
                    bookings.c.order_number.in_(numbers[start : start + IN_LIST_CHUNK]),
                )
                states.update({n: BookingState(s) for n, s in conn.execute(query)})
        return states

    def stuck(self, shop_id: int, now: dt.datetime) -> list[str]:
        """Orders no job is working on: retries RQ gave up on, and claims whose worker
        died (lease expired)."""
        query = select(bookings.c.order_number).where(
            bookings.c.shop_id == shop_id,
            (bookings.c.state == str(State.RETRYING))
            | and_(
                bookings.c.state == str(State.POSTING),
                bookings.c.claimed_until.is_(None) | (bookings.c.claimed_until <= now),
            ),
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def counts(self, shop_id: int) -> dict[BookingState, int]:
        return self.counts_by_shop(shop_id).get(shop_id, dict.fromkeys(State, 0))

    def counts_by_shop(self, shop_id: int | None = None) -> dict[int, dict[BookingState, int]]:
        """Rows per state for every shop (or one) in one query."""
        query = select(bookings.c.shop_id, bookings.c.state, func.count()).group_by(
            bookings.c.shop_id, bookings.c.state
        )
        if shop_id is not None:
            query = query.where(bookings.c.shop_id == shop_id)
        counts: dict[int, dict[BookingState, int]] = {}
        with self.engine.connect() as conn:
            for shop, state, n in conn.execute(query):
                counts.setdefault(shop, dict.fromkeys(State, 0))[BookingState(state)] = int(n)
        return counts

    def page(
        self,
        shop_id: int,
        *,
        states: Iterable[BookingState] | None = None,
        search: str | None = None,
        limit: int = 25,
        offset: int = 0,
        payment_states: Iterable[str] | None = None,
    ) -> tuple[list[BookingRecord], int]:
        """A page of a shop's bookings (most recently changed first) and the total
        matching: ``states`` any of these, ``search`` a part of the order number (taken
        literally)."""
        where = [bookings.c.shop_id == shop_id]
        if states:
            where.append(bookings.c.state.in_([str(s) for s in states]))
        if payment_states:  # "wacht op betaling" (app.states.OrderPayment)
            where.append(bookings.c.payment_state.in_([str(s) for s in payment_states]))
            where.append(bookings.c.state != str(State.FAILED))
        if search and search.strip():
            pattern = f"%{_like_escape(search.strip())}%"
            where.append(bookings.c.order_number.like(pattern, escape="\\"))
        query = (
            select(bookings)
            .where(*where)
            .order_by(bookings.c.updated_at.desc(), bookings.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self.engine.connect() as conn:
            total = conn.execute(
                select(func.count()).select_from(bookings).where(*where)
            ).scalar_one()
            rows = [record(row) for row in conn.execute(query)]
        return rows, int(total)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
