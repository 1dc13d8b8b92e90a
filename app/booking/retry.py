""" "Opnieuw proberen": put a failed booking (and its held or failed payments) back in the
queue; "Alles opnieuw proberen": every failed booking of a shop, or those of one reason.
Used by the overview and by ``flask book``; the page only says what happened."""

from __future__ import annotations

import enum
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from redis.exceptions import RedisError

from app.jobs.queue import enqueue_booking
from app.services import Services
from app.states import BookingState, FailureCause, OrderPayment, ShopStatus
from app.store.booking_retries import FailedRow

RETRYABLE = (BookingState.FAILED, BookingState.RETRYING)
# Orders whose money has not (all) been booked: waiting for it, a payment held back, or a
# part on "niet boeken" (a ledger chosen since books it).
AWAITING_PAYMENT_STATES = (OrderPayment.OPEN, OrderPayment.HELD, OrderPayment.NOT_BOOKED)


class RetryOutcome(enum.StrEnum):
    QUEUED = "queued"  # the job is queued (or was already waiting)
    NOTHING_TO_DO = "nothing_to_do"  # booked, skipped or settled: nothing to retry
    UNKNOWN = "unknown"  # no such booking of this shop
    QUEUE_DOWN = "queue_down"  # Redis did not answer: nothing was changed
    REFUSED = "refused"  # the shop's credentials are refused: fix them first


def retry_booking(services: Services, shop_id: int, booking_id: int) -> tuple[RetryOutcome, str]:
    """Retry one booking of one shop; the outcome and the order number ("" if unknown)."""
    bookings = services.store.bookings
    before = bookings.get_for_shop(shop_id, booking_id)
    if before is None:
        return RetryOutcome.UNKNOWN, ""
    booking_again = before.state in RETRYABLE
    payments_again = before.payment_state in AWAITING_PAYMENT_STATES
    row = bookings.request_retry(shop_id, booking_id) if booking_again else before
    if row is None or (row.state not in RETRYABLE and not payments_again):
        return RetryOutcome.NOTHING_TO_DO, before.order_number
    if payments_again:  # failed payments go back to pending; the job books them (and the
        # hourly pass looks for pending payments, should the enqueue below fail)
        services.store.payments.retry_failed(shop_id, row.order_number)
    try:
        enqueue_booking(services.queue, shop_id, row.order_number, source="retry", on_request=True)
    except RedisError:
        # No job, so no state change either: failed again, as it was.
        if booking_again and before.state == BookingState.FAILED:
            bookings.undo_retry(shop_id, booking_id, reason=before.reason)
        return RetryOutcome.QUEUE_DOWN, row.order_number
    return RetryOutcome.QUEUED, row.order_number


@dataclass
class FailureGroup:
    """Failed bookings of one shop that failed for the same reason."""

    key: str  # stable for the same reason: what the page's button sends
    reason: str  # the reason, with the order and invoice numbers left out
    cause: FailureCause
    rows: list[FailedRow] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def example(self) -> str:
        return self.rows[0].order_number if self.rows else ""


def _general(row: FailedRow) -> str:
    """The reason without what is this order's own (its order and invoice number)."""
    text = row.reason or "Onbekende fout."
    for own in sorted({row.invoice_number or "", row.order_number}, key=len, reverse=True):
        if own:
            text = text.replace(own, "…")
    return " ".join(text.split())


def failure_groups(services: Services, shop_id: int) -> list[FailureGroup]:
    """The shop's failed bookings by reason, the largest group first."""
    groups: dict[str, FailureGroup] = {}
    by_key: dict[str, list[FailedRow]] = defaultdict(list)
    for row in services.store.bookings.failed(shop_id):
        reason = _general(row)
        key = hashlib.sha256(f"{row.cause}|{reason}".encode()).hexdigest()[:12]
        groups.setdefault(key, FailureGroup(key, reason, row.cause))
        by_key[key].append(row)
    for key, rows in by_key.items():
        groups[key].rows = rows
    return sorted(groups.values(), key=lambda g: (-g.count, g.reason))


@dataclass(frozen=True, slots=True)
class BulkRetry:
    outcome: RetryOutcome
    queued: tuple[str, ...] = ()  # the order numbers sent again


def retry_failed(services: Services, shop_id: int, group_key: str | None = None) -> BulkRetry:
    """Every failed booking of the shop (or of one reason: ``group_key``) back in the
    queue, as asked by a person. While the shop's credentials are refused nothing is
    sent: those orders are booked by themselves once the credentials work again."""
    shop = services.load_shop(shop_id)
    if shop is None:
        return BulkRetry(RetryOutcome.UNKNOWN)
    if shop.status == ShopStatus.AUTH_FAILED:
        return BulkRetry(RetryOutcome.REFUSED)
    groups = failure_groups(services, shop_id)
    rows = [r for g in groups if group_key in (None, g.key) for r in g.rows]
    if not rows:
        return BulkRetry(RetryOutcome.NOTHING_TO_DO)
    bookings = services.store.bookings
    numbers = bookings.request_retries(shop_id, [r.id for r in rows])
    by_number = {r.order_number: r for r in rows}
    queued: list[str] = []
    try:
        for number in numbers:
            enqueue_booking(services.queue, shop_id, number, source="retry", on_request=True)
            queued.append(number)
    except RedisError:
        for number in numbers[len(queued) :]:  # not queued: failed again, as they were
            row = by_number[number]
            bookings.undo_retry(shop_id, row.id, reason=row.reason)
        return BulkRetry(RetryOutcome.QUEUE_DOWN, tuple(queued))
    return BulkRetry(RetryOutcome.QUEUED, tuple(queued))
