"""The ledger of bookings: for every shop + order, whether and how it was booked.

The bookings table is the source of truth for "was this order booked?" (Redis only
remembers the answer, see app/fastpaths.py). One row per shop + order, unique on the
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
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, func, select, update

from app.states import BookingState, OrderPayment
from app.store.booking_records import BookingRecord, Claim, OrderFacts, record
from app.store.db import bookings, single_statement, transaction, utcnow
from app.store.engine import insert_for_dialect
from app.store.history import BookedRow, insert_attempt, insert_rows

State = BookingState
IN_LIST_CHUNK = 500  # keep IN (...) lists modest
NO_FACTS = OrderFacts()  # an order we could not read
RETRY_REQUESTED = "Opnieuw aangeboden."  # the reason of a row a person asked to retry


def _insert_if_new(conn: Connection, values: dict[str, Any]) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the new row's id, or None if the
    order is already recorded. (``rowcount`` is not reliable here across drivers.)"""
    return conn.execute(_insert_if_new_statement(conn.dialect.name), values).scalar()


@cache
def _insert_if_new_statement(dialect: str) -> Any:
    """Built once per database kind; the values go as parameters (every booking job runs
    this: building the statement each time cost more than sending it)."""
    return insert_for_dialect(dialect, bookings).on_conflict_do_nothing().returning(bookings.c.id)


# Booked: the row's new values, as parameters of a statement built once (see above).
_MARK_BOOKED = (
    update(bookings)
    .where(bookings.c.id == bindparam("b_id"))
    .values(
        state=str(State.BOOKED),
        mutation_number=bindparam("b_mutation"),
        payment_mutation_number=bindparam("b_payment_mutation"),
        relation_code=bindparam("b_relation"),
        warnings=bindparam("b_warnings"),
        claim_token=None,
        claimed_until=None,
        uncertain=False,
        error_code=None,
        last_error=None,
        reason=None,
        booked_at=bindparam("b_now"),
        updated_at=bindparam("b_now"),
    )
)


def _get(conn: Connection, shop_id: int, order_number: str) -> BookingRecord | None:
    row = conn.execute(
        select(bookings).where(
            bookings.c.shop_id == shop_id, bookings.c.order_number == order_number
        )
    ).first()
    return record(row) if row else None


class BookingStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- the pipeline's steps ---------------------------------------------------------

    def claim(
        self,
        shop_id: int,
        order_number: str,
        facts: OrderFacts,
        *,
        lease_seconds: int,
        payment_state: OrderPayment | None = None,
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
        )
        # An order's first claim (nearly every one) is this one statement, atomic on its
        # own: no BEGIN and COMMIT around it.
        with single_statement(self.engine) as conn:
            booking_id = _insert_if_new(conn, values)
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
        row = _get(conn, shop_id, order_number)
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
                payment_state=values["payment_state"],
                attempts=bookings.c.attempts + 1,
                order_uuid=values["order_uuid"],
                kind=values["kind"],
                total=facts.total,
                order_date=values["order_date"],
                invoice_number=invoice_number,
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
    ) -> None:
        """Record SKIPPED or a mapping FAILED for an order nobody is posting.

        Never overwrites a booked row or a live claim: those know better.
        """
        assert state in (State.SKIPPED, State.FAILED)
        values = facts.values(shop_id, order_number)
        values.update(state=str(state), reason=reason, error_code=error_code, last_error=last_error)
        with transaction(self.engine) as conn:
            new = _insert_if_new(conn, values)
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
            before = _get(conn, shop_id, order_number)
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
                _MARK_BOOKED,
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

    def mark_failed(self, claim: Claim, *, error_code: str, error: str, reason: str) -> None:
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

    # --- reading ----------------------------------------------------------------------

    def get(self, shop_id: int, order_number: str) -> BookingRecord | None:
        with self.engine.connect() as conn:
            return _get(conn, shop_id, order_number)

    def get_for_shop(self, shop_id: int, booking_id: int) -> BookingRecord | None:
        """A booking by id, only if it belongs to this shop."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(bookings).where(bookings.c.id == booking_id, bookings.c.shop_id == shop_id)
            ).first()
        return record(row) if row else None

    def booked_numbers(self, shop_id: int) -> list[str]:
        """For rebuilding the Redis fast path."""
        query = select(bookings.c.order_number).where(
            bookings.c.shop_id == shop_id, bookings.c.state == str(State.BOOKED)
        )
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
