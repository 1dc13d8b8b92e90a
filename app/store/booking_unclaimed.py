"""Orders recorded without a claim: skipped (a test order, a status that is not booked,
before the start date) or failed before anything was posted (the order's data or the
mapping; or held while e-Boekhouden refuses the shop's credentials)."""

from __future__ import annotations

from sqlalchemy import Engine, and_, update

from app.states import BookingState, FailureCause
from app.store.booking_queries import get_booking
from app.store.booking_records import OrderFacts
from app.store.booking_statements import insert_if_new
from app.store.db import bookings
from app.store.engine import transaction, utcnow
from app.store.history import insert_attempt

State = BookingState
NO_FACTS = OrderFacts()  # an order we could not read


class Unclaimed:
    engine: Engine

    def record_unclaimed(
        self,
        shop_id: int,
        order_number: str,
        *,
        state: BookingState,
        reason: str,
        facts: OrderFacts = NO_FACTS,
        error_code: str | None = None,
        last_error: str | None = None,
        cause: FailureCause = FailureCause.ORDER,
    ) -> None:
        """Record SKIPPED or FAILED (the order's, or ``cause``) for an order nobody is
        posting. Never overwrites a booked row or a live claim: those know better.
        """
        assert state in (State.SKIPPED, State.FAILED)
        values = facts.values(shop_id, order_number)
        values.update(
            state=str(state),
            reason=reason,
            error_code=error_code,
            last_error=last_error,
            failure_cause=str(cause) if state == State.FAILED else None,
        )
        with transaction(self.engine) as conn:
            new = insert_if_new(conn, values)
            if new is not None:
                if state == State.FAILED:
                    insert_attempt(
                        conn,
                        new,
                        state,
                        error_code=error_code,
                        error_text=last_error,
                        reason=reason,
                    )
                return
            before = get_booking(conn, shop_id, order_number)
            now = utcnow()
            changed = conn.execute(
                update(bookings)
                .returning(bookings.c.id)
                .where(
                    bookings.c.shop_id == shop_id,
                    bookings.c.order_number == order_number,
                    bookings.c.state.in_(
                        [str(State.SKIPPED), str(State.FAILED), str(State.RETRYING)]
                    )
                    | and_(bookings.c.state == str(State.POSTING), bookings.c.claimed_until < now),
                    bookings.c.uncertain.is_(False),
                )
                .values(
                    **{
                        k: v
                        for k, v in values.items()
                        if k not in ("shop_id", "order_number")
                        and not (k == "invoice_number" and v is None)
                    },
                    updated_at=now,
                )
            )
            # The same failure told again (another notification) is not a new attempt.
            repeat = before is not None and before.state == State.FAILED and before.reason == reason
            for booking_id in changed.scalars():
                if state == State.FAILED and not repeat:
                    insert_attempt(
                        conn,
                        booking_id,
                        state,
                        error_code=error_code,
                        error_text=last_error,
                        reason=reason,
                    )
