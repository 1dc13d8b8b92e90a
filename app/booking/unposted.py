"""Orders the pipeline records without posting anything: placed before the shop's start
date (skipped), held while e-Boekhouden refuses the shop's credentials (failed for a
system reason, healed by itself), or unbookable as they stand (failed: the order's)."""

from __future__ import annotations

from app.booking.healing import held_reason
from app.booking.outcome import Outcome
from app.core.mapping import Booking
from app.core.orders import Order
from app.core.start_date import before_start_reason, placed_before
from app.errors import MappingError, OrderDataError
from app.services import Services
from app.states import BookingState, FailureCause, JobOutcome, SkipCode
from app.store.booking_records import OrderFacts
from app.store.shops import Shop


def before_start(services: Services, shop: Shop, order: Order) -> bool:
    """Placed before the start date, and not an order the register already has in
    progress (it passed this check when it was first met, e.g. before the date moved)."""
    if not placed_before(order.date, order.time, shop.book_from):
        return False
    state = services.store.bookings.states_of(shop.id, [order.number]).get(order.number)
    return state not in (BookingState.FAILED, BookingState.RETRYING, BookingState.POSTING)


def skip_before_start(services: Services, shop: Shop, order: Order) -> Outcome:
    assert shop.book_from is not None
    reason = before_start_reason(order.number, shop.book_from)
    services.store.bookings.record_unclaimed(
        shop.id,
        order.number,
        state=BookingState.SKIPPED,
        reason=reason,
        error_code=str(SkipCode.BEFORE_START),
        facts=OrderFacts(order.uuid, total=order.total, date=order.date, customer=order.customer),
    )
    return Outcome(JobOutcome.SKIPPED, order.number, reason=reason)


def hold(services: Services, shop: Shop, order: Order, booking: Booking) -> Outcome:
    """The shop's credentials are refused: the order waits as failed for a system reason
    (nothing posted) and is booked by itself once they work again."""
    reason = held_reason(shop)
    services.store.bookings.record_unclaimed(
        shop.id,
        order.number,
        state=BookingState.FAILED,
        reason=reason,
        error_code="credentials_refused",
        cause=FailureCause.SYSTEM,
        facts=OrderFacts(
            order.uuid, booking.kind, booking.total, order.date, customer=order.customer
        ),
    )
    return Outcome(JobOutcome.HELD, order.number, reason=reason)


def fail_unbookable(
    services: Services,
    shop: Shop,
    order_number: str,
    err: OrderDataError | MappingError,
    order: Order | None,
) -> Outcome:
    """The order cannot be booked as it stands: record why, for a person to act on."""
    facts = (
        OrderFacts(order.uuid, total=order.total, date=order.date, customer=order.customer)
        if order
        else OrderFacts()
    )
    services.store.bookings.record_unclaimed(
        shop.id,
        order_number,
        state=BookingState.FAILED,
        reason=err.explanation,
        error_code="order_data" if order is None else "mapping",
        last_error=str(err),
        facts=facts,
    )
    return Outcome(JobOutcome.FAILED, order_number, reason=err.explanation)
