"""Retries in the register: a person's "Opnieuw proberen" (one booking, or all failed ones
of a shop or of one reason), a failed booking back to RETRYING (the job then books it)
and undone again when no job could be queued; and the system's own retry, once it is back,
of every booking that failed for a system reason (app/booking/healing.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, select, update

from app.states import BookingState, FailureCause
from app.store.booking_records import BookingRecord, record
from app.store.db import bookings
from app.store.engine import transaction, utcnow

State = BookingState
RETRY_REQUESTED = "Staat weer in de wachtrij en wordt zo opnieuw geboekt."  # a person asked
# The reason of a row the system sent again by itself once it was back.
HEALED = "Staat vanzelf weer in de wachtrij: de koppeling werkt weer."
MAX_FAILED_LISTED = 5000  # the bulk retry reads at most this many failed rows of a shop


@dataclass(frozen=True, slots=True)
class FailedRow:
    """What the bulk retry needs of one failed booking."""

    id: int
    order_number: str
    invoice_number: str | None
    reason: str
    error_code: str | None
    cause: FailureCause


class ManualRetries:
    engine: Engine

    def request_retry(self, shop_id: int, booking_id: int) -> BookingRecord | None:
        """A person asked to try a failed booking again: failed → retrying. Returns the
        row as it is now (None if it is not this shop's)."""
        with transaction(self.engine) as conn:
            conn.execute(
                update(bookings)
                .where(
                    bookings.c.id == booking_id,
                    bookings.c.shop_id == shop_id,
                    bookings.c.state == str(State.FAILED),
                )
                .values(state=str(State.RETRYING), reason=RETRY_REQUESTED, updated_at=utcnow())
            )
            row = conn.execute(
                select(bookings).where(bookings.c.id == booking_id, bookings.c.shop_id == shop_id)
            ).first()
        return record(row) if row else None

    def undo_retry(self, shop_id: int, booking_id: int, *, reason: str | None) -> bool:
        """The retry's job could not be queued: retrying → failed again, with the reason
        it had, unless a worker has taken the row meanwhile. True if undone."""
        with transaction(self.engine) as conn:
            done = conn.execute(
                update(bookings)
                .where(
                    bookings.c.id == booking_id,
                    bookings.c.shop_id == shop_id,
                    bookings.c.state == str(State.RETRYING),
                    bookings.c.claim_token.is_(None),
                    bookings.c.reason == RETRY_REQUESTED,
                )
                .values(state=str(State.FAILED), reason=reason, updated_at=utcnow())
            )
        return bool(done.rowcount)

    def failed(self, shop_id: int) -> list[FailedRow]:
        """The shop's failed bookings, oldest first (at most ``MAX_FAILED_LISTED``)."""
        query = (
            select(
                bookings.c.id,
                bookings.c.order_number,
                bookings.c.invoice_number,
                bookings.c.reason,
                bookings.c.error_code,
                bookings.c.failure_cause,
            )
            .where(bookings.c.shop_id == shop_id, bookings.c.state == str(State.FAILED))
            .order_by(bookings.c.id)
            .limit(MAX_FAILED_LISTED)
        )
        with self.engine.connect() as conn:
            return [
                FailedRow(
                    row.id,
                    row.order_number,
                    row.invoice_number,
                    row.reason or "",
                    row.error_code,
                    FailureCause.SYSTEM
                    if row.failure_cause == FailureCause.SYSTEM
                    else FailureCause.ORDER,
                )
                for row in conn.execute(query)
            ]

    def request_retries(self, shop_id: int, booking_ids: Iterable[int]) -> list[str]:
        """A person asked to try these failed bookings again: failed → retrying, in one
        statement. Returns the order numbers that changed (rows no longer failed, or not
        this shop's, are left alone)."""
        ids = list(dict.fromkeys(booking_ids))
        numbers: list[str] = []
        with transaction(self.engine) as conn:
            for start in range(0, len(ids), 500):
                result = conn.execute(
                    update(bookings)
                    .where(
                        bookings.c.shop_id == shop_id,
                        bookings.c.id.in_(ids[start : start + 500]),
                        bookings.c.state == str(State.FAILED),
                    )
                    .values(state=str(State.RETRYING), reason=RETRY_REQUESTED, updated_at=utcnow())
                    .returning(bookings.c.order_number)
                )
                numbers += list(result.scalars())
        return numbers

    def retry_system_failures(self, shop_id: int) -> list[str]:
        """The system is back: every booking of the shop that failed for a system reason
        goes back to retrying, once (should it fail again for a system reason, the shop
        is refused again and the next recovery sends it again). Returns their numbers."""
        with transaction(self.engine) as conn:
            result = conn.execute(
                update(bookings)
                .where(
                    bookings.c.shop_id == shop_id,
                    bookings.c.state == str(State.FAILED),
                    bookings.c.failure_cause == str(FailureCause.SYSTEM),
                )
                .values(state=str(State.RETRYING), reason=HEALED, updated_at=utcnow())
                .returning(bookings.c.order_number)
            )
            return list(result.scalars())
