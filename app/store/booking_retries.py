"""A person's "Opnieuw proberen" in the register: a failed booking back to RETRYING (the job
then books it), and undone again when no job could be queued."""

from __future__ import annotations

from sqlalchemy import Engine, select, update

from app.states import BookingState
from app.store.booking_records import BookingRecord, record
from app.store.db import bookings, transaction, utcnow

State = BookingState
RETRY_REQUESTED = "Staat weer in de wachtrij en wordt zo opnieuw geboekt."  # a person asked


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
