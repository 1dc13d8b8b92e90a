"""Statements every booking job runs, built once per process (building them cost more
than sending them: docs/benchmarks.md §5); their values go as parameters."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, update

from app.states import BookingState
from app.store.db import bookings
from app.store.engine import insert_for_dialect


def insert_if_new(conn: Connection, values: dict[str, Any]) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the new row's id, or None if the
    order is already recorded. (``rowcount`` is not reliable here across drivers.)"""
    return conn.execute(insert_if_new_statement(conn.dialect.name), values).scalar()


@cache
def insert_if_new_statement(dialect: str) -> Any:
    """Built once per database kind; the values go as parameters (every booking job runs
    this: building the statement each time cost more than sending it)."""
    return insert_for_dialect(dialect, bookings).on_conflict_do_nothing().returning(bookings.c.id)


# Booked: the row's new values, as parameters of a statement built once (see above).
MARK_BOOKED = (
    update(bookings)
    .where(bookings.c.id == bindparam("b_id"))
    .values(
        state=str(BookingState.BOOKED),
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
        failure_cause=None,
        booked_at=bindparam("b_now"),
        updated_at=bindparam("b_now"),
    )
)
