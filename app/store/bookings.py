"""The bookings register: for every shop + order, whether and how it was booked.

The bookings table is the source of truth for "was this order booked?" (Redis only
remembers the answer, see app/booked.py). One row per shop + order, unique on the
order number and on the order uuid; its ``state`` is a ``BookingState`` (app/states.py
says what each means). POSTING is a lease: claim_token until claimed_until.

A ``posting`` row whose lease expired, or any row flagged ``uncertain``, may already be
in e-Boekhouden (the worker died, or the answer was lost); the next claim says
``needs_check`` and the pipeline looks it up by Factuurnummer before posting again. A
claim is flagged ``uncertain`` from the start (it is taken to post), so a job costs two
commits: the claim and its outcome. A failure that surely posted nothing clears the flag.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuidlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, update

from app.states import BookingMode, BookingState, FailureCause, OrderPayment
from app.store.booking_queries import BookingQueries, get_booking
from app.store.booking_records import Claim, OrderFacts
from app.store.booking_retries import ManualRetries
from app.store.booking_statements import MARK_BOOKED, insert_if_new
from app.store.booking_unclaimed import Unclaimed
from app.store.db import bookings
from app.store.engine import single_statement, transaction, utcnow
from app.store.history import insert_attempt, insert_rows
from app.store.history_records import BookedRow

State = BookingState


class BookingStore(BookingQueries, ManualRetries, Unclaimed):
    """The register's writes as a job makes them; the reads are BookingQueries'
    (app/store/booking_queries.py), retries (a person's, and the system's once it is
    back) ManualRetries' (app/store/booking_retries.py), orders recorded without a claim
    Unclaimed's (app/store/booking_unclaimed.py)."""

    # --- the pipeline's steps ---------------------------------------------------------

    def claim(
        self,
        shop_id: int,
        order_number: str,
        facts: OrderFacts,
        *,
        lease_seconds: int,
        payment_state: OrderPayment | None = None,
        booking_mode: BookingMode | None = None,
    ) -> Claim | BookingState:
        """Take the right to post this order, atomically. Returns a ``Claim``, or the
        state that refuses it: BOOKED, FAILED (waits for a person), POSTING (another
        worker holds a live lease). A claim also sets the order's ``payment_state``
        (app/store/payments.py): its payments are owed from the moment the invoice may
        reach e-Boekhouden."""
        now = utcnow()
        token = str(uuidlib.uuid4())
        until = now + dt.timedelta(seconds=lease_seconds)
        values = facts.values(shop_id, order_number)
        values.update(
            state=str(State.POSTING),
            attempts=1,
            claim_token=token,
            claimed_until=until,
            uncertain=True,
            payment_state=str(payment_state) if payment_state else None,
            booking_mode=str(booking_mode) if booking_mode else None,
        )
        # An order's first claim (nearly every one) is this one statement, atomic on its
        # own: no BEGIN and COMMIT around it.
        with single_statement(self.engine) as conn:
            booking_id = insert_if_new(conn, values)
        if booking_id is not None:
            return Claim(
                booking_id,
                token,
                needs_check=False,
                attempts=1,
                invoice_number=facts.invoice_number,
            )
        with transaction(self.engine) as conn:
            return self._reclaim(conn, shop_id, order_number, facts, values)

    def _reclaim(
        self,
        conn: Connection,
        shop_id: int,
        order_number: str,
        facts: OrderFacts,
        values: dict[str, Any],
    ) -> Claim | BookingState:
        """The order is recorded already: take it over if nobody holds it."""
        now, token, until = utcnow(), values["claim_token"], values["claimed_until"]
        row = get_booking(conn, shop_id, order_number)
        if row is None:  # the uuid is already recorded under another number: refuse loudly
            raise LookupError(f"order uuid {facts.uuid} is booked under another order number")
        if row.state in (State.BOOKED, State.FAILED):
            return row.state
        if row.state == State.POSTING and row.claimed_until and row.claimed_until > now:
            return State.POSTING
        # skipped, retrying, or a posting lease that expired (its worker died mid-post).
        needs_check = row.uncertain or row.state == State.POSTING
        # A post that may have reached e-Boekhouden keeps its number (a changed format
        # applies to new bookings only); one that surely did not takes today's format.
        invoice_number = (
            row.invoice_number if needs_check and row.invoice_number else facts.invoice_number
        )
        swapped = conn.execute(
            update(bookings)
            .where(
                bookings.c.id == row.id,
                bookings.c.state == str(row.state),
                (
                    bookings.c.claim_token.is_(None)
                    if row.claim_token is None
                    else bookings.c.claim_token == row.claim_token
                ),
            )
            .values(
                state=str(State.POSTING),
                claim_token=token,
                claimed_until=until,
                uncertain=True,
                failure_cause=None,
                payment_state=values["payment_state"],
                booking_mode=values["booking_mode"],
                attempts=bookings.c.attempts + 1,
                order_uuid=values["order_uuid"],
                kind=values["kind"],
                total=facts.total,
                order_date=values["order_date"],
                invoice_number=invoice_number,
                destination=values["destination"],
                buyer_vat_number=values["buyer_vat_number"],
                oss_amounts=values["oss_amounts"],
                customer=values["customer"],
                updated_at=now,
            )
        )
        if not swapped.rowcount:
            return State.POSTING  # someone else took it between our read and our write
        return Claim(
            row.id,
            token,
            needs_check=needs_check,
            attempts=row.attempts + 1,
            invoice_number=invoice_number,
        )

    def mark_booked(
        self,
        booking_id: int,
        *,
        shop_id: int,
        mutation_number: int,
        payment_mutation_number: int | None,
        relation_code: str,
        rows: Iterable[BookedRow] = (),
        warnings: Iterable[str] = (),
        first_attempt: bool = False,
    ) -> None:
        """Booked is the truth once e-Boekhouden said so, whoever holds the lease. The
        rows booked (``rows``) and the attempt are stored in the same transaction.
        ``first_attempt``: the claim was the order's first, so no rows exist yet."""
        with transaction(self.engine) as conn:
            conn.execute(
                MARK_BOOKED,
                {
                    "b_id": booking_id,
                    "b_mutation": mutation_number,
                    "b_payment_mutation": payment_mutation_number,
                    "b_relation": relation_code,
                    "b_warnings": "\n".join(warnings) or None,
                    "b_now": utcnow(),
                },
            )
            insert_rows(conn, booking_id, rows, shop_id=shop_id, replace=not first_attempt)
            insert_attempt(conn, booking_id, State.BOOKED)

    def mark_retrying(self, claim: Claim, *, error: str, reason: str, uncertain: bool) -> None:
        """``uncertain``: this attempt may have reached e-Boekhouden. The row stays
        uncertain if an earlier one may have (the claim needed a check)."""
        with transaction(self.engine) as conn:
            conn.execute(
                update(bookings)
                .where(
                    bookings.c.id == claim.booking_id,
                    bookings.c.claim_token == claim.token,
                )
                .values(
                    state=str(State.RETRYING),
                    last_error=error,
                    reason=reason,
                    uncertain=claim.needs_check or uncertain,
                    claim_token=None,
                    claimed_until=None,
                    updated_at=utcnow(),
                )
            )
            insert_attempt(conn, claim.booking_id, State.RETRYING, error_text=error, reason=reason)

    def mark_failed(
        self,
        claim: Claim,
        *,
        error_code: str,
        error: str,
        reason: str,
        cause: FailureCause = FailureCause.ORDER,
    ) -> None:
        with transaction(self.engine) as conn:
            conn.execute(
                update(bookings)
                .where(
                    bookings.c.id == claim.booking_id,
                    bookings.c.claim_token == claim.token,
                )
                .values(
                    state=str(State.FAILED),
                    error_code=error_code or None,
                    last_error=error,
                    reason=reason,
                    failure_cause=str(cause),
                    uncertain=False,
                    claim_token=None,
                    claimed_until=None,
                    updated_at=utcnow(),
                )
            )
            insert_attempt(
                conn,
                claim.booking_id,
                State.FAILED,
                error_code=error_code or None,
                error_text=error,
                reason=reason,
            )
