"""The payments register: every capture or refund of an order, booked exactly once.

One row per shop + sale + payment key (the listing's payment id and mutation id): the sale
is the order whose payments listing holds the movement, ``order_number`` the invoice or
credit note it is booked on (a refund: one of the sale's credit notes, or the sale itself
while it is held). So a refund can be booked on one credit note only. Its ``state`` is a
``PaymentState``; PENDING/RETRYING rows wait to be posted, POSTING is a lease (claim_token
until claimed_until), exactly as for the invoice in app/store/bookings.py. A POSTING row
whose lease expired, or one flagged ``uncertain``, may already be in e-Boekhouden: the
next claim says ``needs_check`` and the pipeline looks it up by Factuurnummer (+ Soort,
relation, amount, date, ledger) before posting again.

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

from app.states import PaymentState
from app.store.db import payments
from app.store.engine import aware, insert_for, transaction, utcnow
from app.store.order_money import OrderMoney
from app.store.payment_queries import PaymentQueries, family_rows
from app.store.payment_records import PaymentClaim, PaymentRecord, PaymentRow

State = PaymentState
OPEN_FOR_POSTING = (State.PENDING, State.RETRYING, State.POSTING)
# Not posted (nor being posted): the plan may still change these.
REPLANNABLE = (State.HELD, State.NOT_BOOKED, State.PENDING, State.MANUAL)


class PaymentStore(PaymentQueries, OrderMoney):
    """The register's writes; the reads are PaymentQueries' (app/store/payment_queries.py),
    the orders' side (payment state, tracking, legacy invoice numbers) OrderMoney's
    (app/store/order_money.py)."""

    # --- the plan ----------------------------------------------------------------------

    def record_family(
        self, shop_id: int, sale_number: str, rows: Iterable[PaymentRow], members: Iterable[str]
    ) -> list[PaymentRecord]:
        """Record the plan of one sale's money (its captures, and its refunds on its
        credit notes or held on the sale): rows not seen before are inserted; rows not
        posted yet are re-planned when anything changed (a held payment whose method now
        has a ledger becomes PENDING; a held refund moves to the credit note now made
        for it). Booked, posting, retrying and failed rows are left alone. Returns the
        family's rows (``members``: the sale and its credit notes, whose rows from before
        the sale was stored are adopted)."""
        now = utcnow()
        numbers = list(dict.fromkeys([sale_number, *members]))
        with transaction(self.engine) as conn:
            current = family_rows(conn, shop_id, sale_number, numbers)
            by_key = {r.payment_key: r for r in current if r.sale_number == sale_number}
            legacy = {(r.order_number, r.payment_key): r for r in current if not r.sale_number}
            for row in rows:
                found = by_key.get(row.key)
                if found is None and (row.order_number, row.key) in legacy:
                    found = legacy.pop((row.order_number, row.key))
                    conn.execute(
                        update(payments)
                        .where(payments.c.id == found.id, payments.c.sale_number.is_(None))
                        .values(sale_number=sale_number)
                    )
                if found is None:
                    # RETURNING, not rowcount: rowcount is not reliable here across drivers.
                    # Nothing inserted: another job of this sale recorded it a moment ago.
                    conn.execute(
                        insert_for(conn, payments)
                        .values(
                            **_values(shop_id, sale_number, row), created_at=now, updated_at=now
                        )
                        .on_conflict_do_nothing()
                        .returning(payments.c.id)
                    ).scalar()
                    continue
                if found.state not in REPLANNABLE or _same(found, row):
                    continue
                conn.execute(
                    update(payments)
                    .where(
                        payments.c.id == found.id,
                        payments.c.state.in_([str(s) for s in REPLANNABLE]),
                    )
                    .values(
                        order_number=row.order_number,
                        ledger=row.ledger or None,
                        state=str(row.state),
                        reason=row.reason or None,
                        payment_date=row.date,
                        amount=row.amount,
                        method=row.method,
                        updated_at=now,
                    )
                )
            return family_rows(conn, shop_id, sale_number, numbers)

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


def _values(shop_id: int, sale_number: str, row: PaymentRow) -> dict[str, Any]:
    return {
        "shop_id": shop_id,
        "sale_number": sale_number,
        "order_number": row.order_number,
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
    }


def _same(found: PaymentRecord, row: PaymentRow) -> bool:
    """Nothing to re-plan (so a held payment keeps its ``updated_at``: the moment it was
    held, which the digest reports once)."""
    return (
        found.order_number == row.order_number
        and found.state == row.state
        and (found.reason or "") == row.reason
        and (found.ledger or "") == row.ledger
        and found.amount == row.amount
        and found.payment_date == row.date
        and found.method == row.method
    )
