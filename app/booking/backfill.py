"""Backfill from the interface: "Bestellingen vanaf [datum] boeken".

1. ``preview``: a dry run from one listing pass — how many orders would be booked and
   their totals per BTW code (mapped with the shop's settings; nothing is posted).
2. ``start``: enqueue the backfill job (a reconcile pass in BACKFILL mode, by order date).
3. ``run`` (the job): the pass, writing its progress to Redis as it goes.
4. ``progress``: seen, queued, booked, failed — booked/failed read from the register for the
   numbers the pass queued, so the bar moves as the workers book.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.booking.reconcile import SHOP_TZ, PassResult, run_pass
from app.budget import Budget
from app.config import BACKFILL_LEASE_SECONDS, BACKFILL_PROGRESS_TTL
from app.core.mapping import Booking, map_order
from app.core.mutations import Soort
from app.core.orders import Order
from app.errors import MappingError
from app.jobs.queue import enqueue_backfill, job_state
from app.services import Services
from app.states import BookingState, RunMode, RunOutcome
from app.store.engine import utcnow
from app.store.shops import Shop

ZERO = Decimal("0.00")
QUEUED, RUNNING, DONE, FAILED = "wachtrij", "bezig", "klaar", "mislukt"
INTERRUPTED = (
    "De inhaalslag is onderbroken (de verwerking stopte onverwacht). Start hem opnieuw: wat "
    "al geboekt is, wordt niet nog een keer geboekt."
)


def _key(shop_id: int) -> str:
    return f"mww:backfill:{shop_id}"


@dataclass
class CodeTotal:
    orders: int = 0
    excl: Decimal = ZERO
    vat: Decimal = ZERO
    incl: Decimal = ZERO


@dataclass
class Preview:
    since: dt.date
    until: dt.date
    listed: int = 0
    already_booked: int = 0
    to_book: int = 0
    per_code: dict[str, CodeTotal] = field(default_factory=dict)
    unmappable: list[tuple[str, str]] = field(default_factory=list)
    not_bookable: int = 0

    @property
    def total(self) -> CodeTotal:
        out = CodeTotal()
        for t in self.per_code.values():
            out.excl, out.vat, out.incl = out.excl + t.excl, out.vat + t.vat, out.incl + t.incl
        out.orders = self.to_book
        return out


def today_local() -> dt.date:
    return utcnow().astimezone(SHOP_TZ).date()


def preview(
    services: Services, shop: Shop, since: dt.date, budget: Budget | None = None
) -> Preview:
    """What a backfill from ``since`` would book (one listing pass, no posting). With a
    ``budget`` (the page's) it raises ``WorkTooLargeError`` past its deadline or size."""
    until = today_local()
    result = Preview(since, until)
    statuses = shop.mapping.bookable_statuses | shop.mapping.credit_statuses
    listing = services.shop_api(shop).iter_orders_placed(since, until)
    if budget is not None:
        listing = budget.bounded(listing)
    orders = [o for o in listing if not o.is_test]
    result.listed = len(orders)
    candidates = [o for o in orders if o.status in statuses]
    result.not_bookable = len(orders) - len(candidates)
    states = services.store.bookings.states_of(shop.id, [o.number for o in candidates])
    per_code: dict[str, CodeTotal] = defaultdict(CodeTotal)
    for order in candidates:
        if budget is not None:
            budget.check()
        if states.get(order.number) == BookingState.BOOKED:
            result.already_booked += 1
            continue
        if not isinstance(order, Order):
            result.unmappable.append((order.number, "De bestelling is onleesbaar."))
            continue
        try:
            decision = map_order(order, shop.mapping)
        except MappingError as err:
            result.unmappable.append((order.number, err.explanation))
            continue
        if not isinstance(decision, Booking):
            continue
        result.to_book += 1
        codes: set[str] = set()
        for mutation in decision.mutations:
            if mutation.soort == Soort.FACTUURBETALING_ONTVANGEN:
                continue
            for row in mutation.rows:
                t = per_code[row.btw_code]
                t.excl += row.amount_excl
                t.vat += row.amount_vat
                t.incl += row.amount_incl
                codes.add(row.btw_code)
        for code in codes:
            per_code[code].orders += 1
    result.per_code = dict(sorted(per_code.items()))
    return result


def start(services: Services, shop: Shop, since: dt.date) -> bool:
    """Enqueue the backfill job; False when one for this shop is still going."""
    current = progress(services, shop.id)
    if current and not current["finished"] and current["state"] != FAILED:
        return False
    services.redis.delete(_key(shop.id), _key(shop.id) + ":numbers")
    _save(
        services,
        shop.id,
        state=QUEUED,
        since=since.isoformat(),
        seen=0,
        queued=0,
        started_at=utcnow().isoformat(),
        error="",
    )
    job_id = enqueue_backfill(services.queue, shop.id, since.isoformat())
    _save(services, shop.id, job_id=job_id)
    return True


def wall_clock() -> float:
    return time.time()


def _lease() -> float:
    return wall_clock() + BACKFILL_LEASE_SECONDS


def run(services: Services, shop: Shop, since: dt.date) -> PassResult:
    """The job: one BACKFILL pass from ``since`` (shop-local midnight) to now."""
    _save(services, shop.id, state=RUNNING, lease_until=_lease())
    numbers_key = _key(shop.id) + ":numbers"

    def report(result: PassResult, numbers: list[str], done: int) -> None:
        if done == 0 and numbers:
            services.redis.rpush(numbers_key, *numbers)
            services.redis.expire(numbers_key, BACKFILL_PROGRESS_TTL)
        _save(
            services,
            shop.id,
            seen=result.seen,
            queued=done,
            total=len(numbers),
            lease_until=_lease(),  # alive: the lease runs from its last sign of life
        )

    start_at = dt.datetime.combine(since, dt.time(), SHOP_TZ)
    result = run_pass(services, shop, mode=RunMode.BACKFILL, since=start_at, progress=report)
    if result.outcome == RunOutcome.OK:
        _save(services, shop.id, state=DONE, seen=result.seen)
    else:
        reason = result.error or (
            "Er liep al een controle voor deze winkel; probeer het over een paar minuten opnieuw."
            if result.outcome == RunOutcome.LOCKED
            else "onbekend"
        )
        _save(services, shop.id, state=FAILED, error=reason)
    return result


def _save(services: Services, shop_id: int, **values: Any) -> None:
    key = _key(shop_id)
    raw = services.redis.get(key)
    data = json.loads(raw) if raw else {}
    data.update(values)
    services.redis.set(key, json.dumps(data), ex=BACKFILL_PROGRESS_TTL)


def progress(services: Services, shop_id: int) -> dict[str, Any] | None:
    """The live progress, or None if no backfill ran lately."""
    raw = services.redis.get(_key(shop_id))
    if not raw:
        return None
    data: dict[str, Any] = json.loads(raw)
    if data.get("state") in (QUEUED, RUNNING) and _dead(services, shop_id, data):
        _save(services, shop_id, state=FAILED, error=INTERRUPTED)  # a new one may start
        data.update(state=FAILED, error=INTERRUPTED)
    numbers = [
        n.decode() if isinstance(n, bytes) else str(n)
        for n in services.redis.lrange(_key(shop_id) + ":numbers", 0, -1)
    ]
    states = services.store.bookings.states_of(shop_id, numbers)
    booked = sum(1 for s in states.values() if s == BookingState.BOOKED)
    failed = sum(1 for s in states.values() if s == BookingState.FAILED)
    skipped = sum(1 for s in states.values() if s == BookingState.SKIPPED)
    total = int(data.get("total") or 0)
    data.update(
        booked=booked,
        failed=failed,
        skipped=skipped,
        total=total,
        done=booked + failed + skipped,
        since_label=dt.date.fromisoformat(data["since"]).strftime("%d-%m-%Y"),
    )
    data["finished"] = data.get("state") == FAILED or (
        data.get("state") == DONE and booked + failed + skipped >= total
    )
    data["percent"] = (
        100
        if data["finished"]
        else (int(100 * (booked + failed + skipped) / total) if total else 0)
    )
    return data


def _dead(services: Services, shop_id: int, data: dict[str, Any]) -> bool:
    """Whether a backfill said to be waiting or running has stopped for good: RQ lost,
    failed or stopped its job, the job ended without a word (a shop that could not be
    read), or its lease ran out without progress (a worker killed mid-pass leaves RQ
    saying "started")."""
    job_id = data.get("job_id")
    status = job_state(services.queue, str(job_id)) if job_id else "started"
    if status is None or status in ("failed", "stopped", "canceled", "finished"):
        return True
    if status == "started" or data.get("state") == RUNNING:
        until = data.get("lease_until")
        if until is None:  # started, not a word yet: the lease runs from now
            _save(services, shop_id, lease_until=_lease())
            return False
        return wall_clock() > float(until)
    return False  # queued, scheduled or deferred: waiting for a worker


def parse_since(text: str) -> dt.date:
    """A date as a person gives it (jjjj-mm-dd or dd-mm-jjjj); ConnectorError-free."""
    text = (text or "").strip()
    for fmt in ("%Y-%m-%d", "%d-%m-%Y"):
        try:
            day = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if day > today_local():
            raise ValueError("De datum ligt in de toekomst.")
        if day < dt.date(2000, 1, 1):
            raise ValueError("Kies een datum na 1 januari 2000.")
        return day
    raise ValueError("Vul een datum in als jjjj-mm-dd, bijvoorbeeld 2026-10-01.")
