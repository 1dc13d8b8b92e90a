"""The payments register: every capture or refund of an order, booked exactly once.

One row per shop + order + payment key (the listing's payment id and mutation id). Its
``state`` is a ``PaymentState``; PENDING/RETRYING rows wait to be posted, POSTING is a
lease (claim_token until claimed_until), exactly as for the invoice in
app/store/bookings.py. A POSTING row whose lease expired, or one flagged ``uncertain``,
may already be in e-Boekhouden: the next claim says ``needs_check`` and the pipeline
looks it up by Factuurnummer (+ Soort, amount, date) before posting again.

``bookings.payment_state`` (an ``OrderPayment``) says where the order's money stands, so
the reconciler finds orders waiting for money in one query and settled orders cost no
call at all.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuidlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update

from app.states import OrderPayment, PaymentState
from app.store.db import aware, bookings, insert_for, payments, transaction, utcnow
from app.store.payment_queries import PaymentQueries, payments_of_order
from app.store.payment_records import PaymentClaim, PaymentRecord, PaymentRow

State = PaymentState
OPEN_FOR_POSTING = (State.PENDING, State.RETRYING, State.POSTING)


class PaymentStore(PaymentQueries):
    """The register's writes; the reads are PaymentQueries' (app/store/payment_queries.py)."""

    # --- the plan ----------------------------------------------------------------------

    def record_plan(
        self, shop_id: int, order_number: str, rows: Iterable[PaymentRow], order_state: OrderPayment
    ) -> list[PaymentRecord]:
        """Insert payments not seen before; re-plan the ones not yet posted (a held
        payment whose method now has a ledger becomes PENDING); set the order's payment
        state. Booked, posting and failed rows are left alone. Returns all the order's
        payments."""
        now = utcnow()
        with transaction(self.engine) as conn:
            for row in rows:
                values = {
                    "shop_id": shop_id,
                    "order_number": order_number,
                    "payment_key": row.key,
                    "kind": row.kind,
                    "method": row.method,
                    "payment_date": row.date,
                    "amount": row.amount,
                    "ledger": row.ledger or None,
                    "state": str(row.state),
                    "reason": row.reason or None,
                    "attempts": 0,
                    "uncertain": False,
                    "created_at": now,
                    "updated_at": now,
                }
                # RETURNING, not rowcount: rowcount is not reliable here across drivers.
                statement = (
                    insert_for(conn, payments)
                    .values(**values)
                    .on_conflict_do_nothing()
                    .returning(payments.c.id)
                )
                if conn.execute(statement).scalar() is not None:
                    continue
                conn.execute(
                    update(payments)
                    .where(
                        payments.c.shop_id == shop_id,
                        payments.c.order_number == order_number,
                        payments.c.payment_key == row.key,
                        payments.c.state.in_(
                            [str(State.HELD), str(State.NOT_BOOKED), str(State.PENDING)]
                        ),
                    )
                    .values(
                        ledger=row.ledger or None,
                        state=str(row.state),
                        reason=row.reason or None,
                        payment_date=row.date,
                        amount=row.amount,
                        method=row.method,
                        updated_at=now,
                    )
                )
            self._set_order_state(conn, shop_id, order_number, order_state)
            return payments_of_order(conn, shop_id, order_number)

    def set_order_state(self, shop_id: int, order_number: str, state: OrderPayment | None) -> None:
        with transaction(self.engine) as conn:
            self._set_order_state(conn, shop_id, order_number, state)

    @staticmethod
    def _set_order_state(
        conn: Any, shop_id: int, order_number: str, state: OrderPayment | None
    ) -> None:
        conn.execute(
            update(bookings)
            .where(
                bookings.c.shop_id == shop_id,
                bookings.c.order_number == order_number,
            )
            .values(payment_state=str(state) if state else None)
        )

    # --- claims ------------------------------------------------------------------------

    def claim(self, payment_id: int, *, lease_seconds: int) -> PaymentClaim | PaymentState:
        """Take the right to post this payment, atomically; or the state that refuses:
        BOOKED, FAILED, HELD, NOT_BOOKED, or POSTING (a live lease elsewhere)."""
        now = utcnow()
        token = str(uuidlib.uuid4())
        with transaction(self.engine) as conn:
            row = conn.execute(select(payments).where(payments.c.id == payment_id)).first()
            if row is None:
                raise LookupError(f"no payment {payment_id}")
            state = State(row.state)
            if state not in OPEN_FOR_POSTING:
                return state
            until = aware(row.claimed_until)
            if state == State.POSTING and until and until > now:
                return State.POSTING
            needs_check = bool(row.uncertain) or state == State.POSTING
            swapped = conn.execute(
                update(payments)
                .where(
                    payments.c.id == payment_id,
                    payments.c.state == row.state,
                    (
                        payments.c.claim_token.is_(None)
                        if row.claim_token is None
                        else payments.c.claim_token == row.claim_token
                    ),
                )
                .values(
                    state=str(State.POSTING),
                    claim_token=token,
                    claimed_until=now + dt.timedelta(seconds=lease_seconds),
                    uncertain=needs_check,
                    attempts=payments.c.attempts + 1,
                    updated_at=now,
                )
            )
            if not swapped.rowcount:
                return State.POSTING
            return PaymentClaim(payment_id, token, needs_check, row.attempts + 1)

    def mark_uncertain(self, claim: PaymentClaim) -> None:
        """Set before AddMutatie: from here on, the post may have reached the server."""
        self._update(claim, uncertain=True)

    def mark_booked(self, claim: PaymentClaim, mutation_number: int) -> None:
        now = utcnow()
        self._update(
            claim,
            state=str(State.BOOKED),
            mutation_number=mutation_number,
            uncertain=False,
            claim_token=None,
            claimed_until=None,
            booked_at=now,
            reason=None,
            error_code=None,
        )

    def mark_retrying(
        self, claim: PaymentClaim, *, error: str, reason: str, uncertain: bool
    ) -> None:
        values: dict[str, Any] = {
            "state": str(State.RETRYING),
            "last_error": error,
            "reason": reason,
            "claim_token": None,
            "claimed_until": None,
        }
        if uncertain:
            values["uncertain"] = True
        self._update(claim, **values)

    def mark_failed(self, claim: PaymentClaim, *, error_code: str, error: str, reason: str) -> None:
        self._update(
            claim,
            state=str(State.FAILED),
            error_code=error_code,
            last_error=error,
            reason=reason,
            claim_token=None,
            claimed_until=None,
        )

    def retry_failed(self, shop_id: int, order_number: str) -> int:
        """ "Opnieuw proberen": failed payments of this order go back to PENDING."""
        with transaction(self.engine) as conn:
            return int(
                conn.execute(
                    update(payments)
                    .where(
                        payments.c.shop_id == shop_id,
                        payments.c.order_number == order_number,
                        payments.c.state == str(State.FAILED),
                    )
                    .values(state=str(State.PENDING), updated_at=utcnow())
                ).rowcount
            )

    def _update(self, claim: PaymentClaim, **values: Any) -> None:
        values["updated_at"] = utcnow()
        with transaction(self.engine) as conn:
            conn.execute(
                update(payments)
                .where(
                    payments.c.id == claim.payment_id,
                    payments.c.claim_token == claim.token,
                )
                .values(**values)
            )
