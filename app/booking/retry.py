""" "Opnieuw proberen": put a failed booking (and its held or failed payments) back in the
queue. Used by the booking page; the page only says what happened."""

from __future__ import annotations

import enum

from redis.exceptions import RedisError

from app.jobs.queue import enqueue_booking
from app.services import Services
from app.states import BookingState, OrderPayment

RETRYABLE = (BookingState.FAILED, BookingState.RETRYING)
# Orders whose money has not (all) been booked: waiting for it, a payment held back, or a
# part on "niet boeken" (a ledger chosen since books it).
AWAITING_PAYMENT_STATES = (OrderPayment.OPEN, OrderPayment.HELD, OrderPayment.NOT_BOOKED)


class RetryOutcome(enum.StrEnum):
    QUEUED = "queued"  # the job is queued (or was already waiting)
    NOTHING_TO_DO = "nothing_to_do"  # booked, skipped or settled: nothing to retry
    UNKNOWN = "unknown"  # no such booking of this shop
    QUEUE_DOWN = "queue_down"  # Redis did not answer: nothing was changed


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
        enqueue_booking(services.queue, shop_id, row.order_number, source="retry")
    except RedisError:
        # No job, so no state change either: failed again, as it was.
        if booking_again and before.state == BookingState.FAILED:
            bookings.undo_retry(shop_id, booking_id, reason=before.reason)
        return RetryOutcome.QUEUE_DOWN, row.order_number
    return RetryOutcome.QUEUED, row.order_number
