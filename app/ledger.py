"""ALL SQL lives here: shops, the ledger of bookings, reconcile runs, users.

The bookings table is the source of truth for "was this order booked?". One row per shop
+ order (unique on order number and on order uuid). States:

    skipped   deliberately not booked (test order, status not bookable, zero total)
    posting   a worker holds a lease (claim_token, claimed_until) and may be posting now
    retrying  a transient error; RQ retries the job, the reconciler re-enqueues it
    booked    e-Boekhouden accepted it; mutation_number is set; final
    failed    a permanent error; waits for a person ("Opnieuw proberen")

A ``posting`` row whose lease expired, or any row flagged ``uncertain``, may already be
in e-Boekhouden (the worker died, or the answer was lost); the next claim says
``needs_check`` and the pipeline looks it up by Factuurnummer before posting again.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuidlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.store.db import bookings, reconcile_runs, shops, users, utcnow

SKIPPED, POSTING, RETRYING, BOOKED, FAILED = "skipped", "posting", "retrying", "booked", "failed"
STATES = (SKIPPED, POSTING, RETRYING, BOOKED, FAILED)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _insert(conn: Connection, table: Any) -> Any:
    """INSERT that can say ON CONFLICT DO NOTHING on both supported databases."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


# --- shops --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShopRow:
    id: int
    name: str
    webhook_key: str
    status: str
    credentials: str  # encrypted
    webhook_secret: str  # encrypted
    previous_webhook_secret: str | None
    previous_secret_expires_at: dt.datetime | None
    mapping: dict[str, Any]
    watermark: dt.datetime | None
    status_error: str | None


def _shop(row: Any) -> ShopRow:
    return ShopRow(
        id=row.id, name=row.name, webhook_key=row.webhook_key, status=row.status,
        credentials=row.credentials, webhook_secret=row.webhook_secret,
        previous_webhook_secret=row.previous_webhook_secret,
        previous_secret_expires_at=_aware(row.previous_secret_expires_at),
        mapping=row.mapping or {}, watermark=_aware(row.watermark),
        status_error=row.status_error,
    )


def create_shop(conn: Connection, *, name: str, webhook_key: str, credentials: str,
                webhook_secret: str, mapping: dict[str, Any], status: str = "draft") -> int:
    result = conn.execute(shops.insert().values(
        name=name, webhook_key=webhook_key, credentials=credentials,
        webhook_secret=webhook_secret, mapping=mapping, status=status,
    ))
    return _new_id(result)


def get_shop(conn: Connection, shop_id: int) -> ShopRow | None:
    row = conn.execute(select(shops).where(shops.c.id == shop_id)).first()
    return _shop(row) if row else None


def get_shop_by_key(conn: Connection, webhook_key: str) -> ShopRow | None:
    row = conn.execute(select(shops).where(shops.c.webhook_key == webhook_key)).first()
    return _shop(row) if row else None


def list_shops(conn: Connection, statuses: Iterable[str] | None = None) -> list[ShopRow]:
    query = select(shops).order_by(shops.c.id)
    if statuses is not None:
        query = query.where(shops.c.status.in_(list(statuses)))
    return [_shop(row) for row in conn.execute(query)]


def update_shop(conn: Connection, shop_id: int, **values: Any) -> None:
    allowed = {"name", "status", "credentials", "webhook_secret", "previous_webhook_secret",
               "previous_secret_expires_at", "mapping", "watermark", "status_error"}
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"not shop columns: {sorted(unknown)}")
    conn.execute(update(shops).where(shops.c.id == shop_id).values(**values,
                                                                    updated_at=utcnow()))


# --- bookings -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookingRow:
    id: int
    shop_id: int
    order_number: str
    order_uuid: str | None
    kind: str
    state: str
    mutation_number: int | None
    payment_mutation_number: int | None
    relation_code: str | None
    order_date: dt.datetime | None
    total: Decimal | None
    attempts: int
    error_code: str | None
    last_error: str | None
    reason: str | None
    claim_token: str | None
    claimed_until: dt.datetime | None
    uncertain: bool
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    booked_at: dt.datetime | None


def _booking(row: Any) -> BookingRow:
    data = dict(row._mapping)
    for key in ("claimed_until", "created_at", "updated_at", "booked_at"):
        data[key] = _aware(data[key])
    data["uncertain"] = bool(data["uncertain"])
    return BookingRow(**data)


@dataclass(frozen=True, slots=True)
class Claim:
    """The right to post one order until ``claimed_until``."""

    booking_id: int
    token: str
    needs_check: bool  # a previous post may have reached e-Boekhouden
    attempts: int


def get_booking(conn: Connection, shop_id: int, order_number: str) -> BookingRow | None:
    row = conn.execute(select(bookings).where(
        bookings.c.shop_id == shop_id, bookings.c.order_number == order_number)).first()
    return _booking(row) if row else None


def get_booking_by_id(conn: Connection, booking_id: int) -> BookingRow | None:
    row = conn.execute(select(bookings).where(bookings.c.id == booking_id)).first()
    return _booking(row) if row else None


def booked_order_numbers(conn: Connection, shop_id: int) -> list[str]:
    """For rebuilding the Redis fast path."""
    query = select(bookings.c.order_number).where(
        bookings.c.shop_id == shop_id, bookings.c.state == BOOKED)
    return list(conn.execute(query).scalars())


def states_for(conn: Connection, shop_id: int, order_numbers: Iterable[str]) -> dict[str, str]:
    """State per order number, for many numbers in one query (reconciler)."""
    numbers = list(dict.fromkeys(order_numbers))
    states: dict[str, str] = {}
    for start in range(0, len(numbers), 500):  # keep the IN list modest
        chunk = numbers[start:start + 500]
        query = select(bookings.c.order_number, bookings.c.state).where(
            bookings.c.shop_id == shop_id, bookings.c.order_number.in_(chunk))
        states.update({number: state for number, state in conn.execute(query)})
    return states


def _order_values(shop_id: int, order_number: str, order_uuid: str | None, kind: str,
                  total: Decimal | None, order_date: dt.date | None) -> dict[str, Any]:
    return {
        "shop_id": shop_id, "order_number": order_number, "order_uuid": order_uuid or None,
        "kind": kind, "total": total,
        "order_date": dt.datetime.combine(order_date, dt.time()) if order_date else None,
    }


def _insert_if_new(conn: Connection, values: dict[str, Any]) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the new row's id, or None if the
    order is already recorded. (``rowcount`` is not reliable here across drivers.)"""
    statement = (_insert(conn, bookings).values(**values).on_conflict_do_nothing()
                 .returning(bookings.c.id))
    return conn.execute(statement).scalar()


def record_outcome_without_claim(
    conn: Connection, shop_id: int, order_number: str, *, state: str, reason: str,
    order_uuid: str | None = None, kind: str = "order", total: Decimal | None = None,
    order_date: dt.date | None = None, error_code: str | None = None,
    last_error: str | None = None,
) -> None:
    """Record ``skipped`` or a mapping ``failed`` for an order nobody is posting.

    Never overwrites a booked row or a live claim: those know better.
    """
    assert state in (SKIPPED, FAILED)
    values = _order_values(shop_id, order_number, order_uuid, kind, total, order_date)
    values.update(state=state, reason=reason, error_code=error_code, last_error=last_error)
    if _insert_if_new(conn, values) is not None:
        return
    now = utcnow()
    conn.execute(update(bookings).where(
        bookings.c.shop_id == shop_id, bookings.c.order_number == order_number,
        bookings.c.state.in_([SKIPPED, FAILED, RETRYING]) | and_(
            bookings.c.state == POSTING, bookings.c.claimed_until < now),
        bookings.c.uncertain.is_(False),
    ).values(**{k: v for k, v in values.items() if k not in ("shop_id", "order_number")},
             updated_at=now))


def claim(
    conn: Connection, shop_id: int, order_number: str, *, order_uuid: str | None,
    kind: str, total: Decimal | None, order_date: dt.date | None, lease_seconds: int,
) -> Claim | str:
    """Take the right to post this order, atomically. Returns a ``Claim``, or the state
    that refuses it: ``booked``, ``failed`` (waits for a person), ``posting`` (another
    worker holds a live lease)."""
    now = utcnow()
    token = str(uuidlib.uuid4())
    until = now + dt.timedelta(seconds=lease_seconds)
    values = _order_values(shop_id, order_number, order_uuid, kind, total, order_date)
    values.update(state=POSTING, attempts=1, claim_token=token, claimed_until=until,
                  uncertain=False)
    booking_id = _insert_if_new(conn, values)
    if booking_id is not None:
        return Claim(booking_id, token, needs_check=False, attempts=1)

    row = get_booking(conn, shop_id, order_number)
    if row is None:  # the uuid is already recorded under another number: refuse loudly
        raise LookupError(f"order uuid {order_uuid} is booked under another order number")
    if row.state in (BOOKED, FAILED):
        return row.state
    if row.state == POSTING and row.claimed_until and row.claimed_until > now:
        return POSTING
    # skipped, retrying, or a posting lease that expired (its worker died mid-post).
    needs_check = row.uncertain or row.state == POSTING
    swapped = conn.execute(update(bookings).where(
        bookings.c.id == row.id,
        bookings.c.state == row.state,
        (bookings.c.claim_token.is_(None) if row.claim_token is None
         else bookings.c.claim_token == row.claim_token),
    ).values(
        state=POSTING, claim_token=token, claimed_until=until, uncertain=needs_check,
        attempts=bookings.c.attempts + 1, order_uuid=values["order_uuid"], kind=kind,
        total=total, order_date=values["order_date"], updated_at=now,
    ))
    if not swapped.rowcount:
        return POSTING  # someone else took it between our read and our write
    return Claim(row.id, token, needs_check=needs_check, attempts=row.attempts + 1)


def mark_uncertain(conn: Connection, booking_id: int, token: str) -> None:
    """Set before AddMutatie: if we die now, the next claim must look first."""
    conn.execute(update(bookings).where(
        bookings.c.id == booking_id, bookings.c.claim_token == token,
    ).values(uncertain=True, updated_at=utcnow()))


def mark_booked(conn: Connection, booking_id: int, *, mutation_number: int,
                payment_mutation_number: int | None, relation_code: str) -> None:
    """Booked is the truth once e-Boekhouden said so, whoever holds the lease."""
    now = utcnow()
    conn.execute(update(bookings).where(bookings.c.id == booking_id).values(
        state=BOOKED, mutation_number=mutation_number,
        payment_mutation_number=payment_mutation_number, relation_code=relation_code,
        claim_token=None, claimed_until=None, uncertain=False, error_code=None,
        last_error=None, reason=None, booked_at=now, updated_at=now,
    ))


def mark_retrying(conn: Connection, booking_id: int, token: str, *, error: str,
                  reason: str, uncertain: bool) -> None:
    conn.execute(update(bookings).where(
        bookings.c.id == booking_id, bookings.c.claim_token == token,
    ).values(state=RETRYING, last_error=error, reason=reason,
             uncertain=bookings.c.uncertain | uncertain, claim_token=None,
             claimed_until=None, updated_at=utcnow()))


def mark_failed(conn: Connection, booking_id: int, token: str, *, error_code: str,
                error: str, reason: str) -> None:
    conn.execute(update(bookings).where(
        bookings.c.id == booking_id, bookings.c.claim_token == token,
    ).values(state=FAILED, error_code=error_code or None, last_error=error, reason=reason,
             uncertain=False, claim_token=None, claimed_until=None, updated_at=utcnow()))


def request_retry(conn: Connection, booking_id: int) -> BookingRow | None:
    """A person asked to try a failed booking again: failed → retrying."""
    conn.execute(update(bookings).where(
        bookings.c.id == booking_id, bookings.c.state == FAILED,
    ).values(state=RETRYING, reason="Opnieuw aangeboden.", updated_at=utcnow()))
    return get_booking_by_id(conn, booking_id)


def state_counts(conn: Connection, shop_id: int) -> dict[str, int]:
    query = select(bookings.c.state, func.count()).where(
        bookings.c.shop_id == shop_id).group_by(bookings.c.state)
    counts = dict.fromkeys(STATES, 0)
    counts.update({state: int(n) for state, n in conn.execute(query)})
    return counts


def bookings_in_states(conn: Connection, shop_id: int, states: Iterable[str]) -> list[BookingRow]:
    query = select(bookings).where(bookings.c.shop_id == shop_id,
                                   bookings.c.state.in_(list(states)))
    return [_booking(row) for row in conn.execute(query)]


# --- reconcile runs -----------------------------------------------------------------


def start_run(conn: Connection, shop_id: int, mode: str, window_start: dt.datetime | None,
              window_end: dt.datetime | None) -> int:
    result = conn.execute(reconcile_runs.insert().values(
        shop_id=shop_id, mode=mode, window_start=window_start, window_end=window_end,
        started_at=utcnow(), outcome="running"))
    return _new_id(result)


def finish_run(conn: Connection, run_id: int, *, outcome: str, seen: int,
               already_booked: int, enqueued: int, skipped: int, errors: int,
               error: str | None, duration_ms: int) -> None:
    conn.execute(update(reconcile_runs).where(reconcile_runs.c.id == run_id).values(
        outcome=outcome, seen=seen, already_booked=already_booked, enqueued=enqueued,
        skipped=skipped, errors=errors, error=error, duration_ms=duration_ms,
        finished_at=utcnow()))


def get_run(conn: Connection, run_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(reconcile_runs).where(reconcile_runs.c.id == run_id)).first()
    return dict(row._mapping) if row else None


def last_run(conn: Connection, shop_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(reconcile_runs).where(reconcile_runs.c.shop_id == shop_id)
                       .order_by(reconcile_runs.c.id.desc()).limit(1)).first()
    return dict(row._mapping) if row else None


# --- users --------------------------------------------------------------------------


def create_user(conn: Connection, email: str, password_hash: str) -> int:
    result = conn.execute(users.insert().values(email=email.strip().lower(),
                                                password_hash=password_hash))
    return _new_id(result)


def get_user_by_email(conn: Connection, email: str) -> dict[str, Any] | None:
    row = conn.execute(select(users).where(users.c.email == email.strip().lower())).first()
    return dict(row._mapping) if row else None


def get_user(conn: Connection, user_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return dict(row._mapping) if row else None


# --- web interface (app/web) ---------------------------------------------------------


def set_user_password(conn: Connection, user_id: int, password_hash: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


def list_users(conn: Connection) -> list[dict[str, Any]]:
    query = select(users.c.id, users.c.email, users.c.created_at).order_by(users.c.id)
    return [dict(row._mapping) for row in conn.execute(query)]


def state_counts_by_shop(conn: Connection) -> dict[int, dict[str, int]]:
    """``state_counts`` for every shop in one query (the shops list)."""
    query = select(bookings.c.shop_id, bookings.c.state, func.count()).group_by(
        bookings.c.shop_id, bookings.c.state)
    counts: dict[int, dict[str, int]] = {}
    for shop_id, state, n in conn.execute(query):
        counts.setdefault(shop_id, dict.fromkeys(STATES, 0))[state] = int(n)
    return counts


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def page_bookings(conn: Connection, shop_id: int, *, states: Iterable[str] | None = None,
                  search: str | None = None, limit: int = 25,
                  offset: int = 0) -> tuple[list[BookingRow], int]:
    """A page of a shop's bookings (most recently changed first) and the total matching:
    ``states`` any of these, ``search`` a part of the order number (taken literally)."""
    where = [bookings.c.shop_id == shop_id]
    if states:
        where.append(bookings.c.state.in_(list(states)))
    if search and search.strip():
        pattern = f"%{_like_escape(search.strip())}%"
        where.append(bookings.c.order_number.like(pattern, escape="\\"))
    total = conn.execute(select(func.count()).select_from(bookings).where(*where)).scalar_one()
    query = (select(bookings).where(*where)
             .order_by(bookings.c.updated_at.desc(), bookings.c.id.desc())
             .limit(limit).offset(offset))
    return [_booking(row) for row in conn.execute(query)], int(total)


def get_shop_booking(conn: Connection, shop_id: int, booking_id: int) -> BookingRow | None:
    """A booking by id, only if it belongs to this shop."""
    row = conn.execute(select(bookings).where(
        bookings.c.id == booking_id, bookings.c.shop_id == shop_id)).first()
    return _booking(row) if row else None
