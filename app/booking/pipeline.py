"""The booking pipeline: one order number in, booked exactly once (or a recorded reason).

Called by the RQ job (``worker.jobs.book_order_job``) and by ``flask book``. Steps:

1. Redis says booked → done (no API call at all).
2. Fetch the order from Mijnwebwinkel (the notification was only a hint).
3. Map it (pure): skip or fail with a reason, or a ``Booking``.
4. Claim it atomically in SQL (a lease). Booked/failed/claimed elsewhere → done.
5. Make sure the relation exists (updated when it lacks the VAT number or company name
   this order carries).
6. If an earlier attempt may have reached e-Boekhouden (lease expired, lost answer),
   look it up by Factuurnummer first: GetMutaties is capped at 5,000 calls a month, so
   only in this uncertain case, or when AddMutatie says the number exists. A mutation
   found under our number is adopted only when it is ours (app/core/adoption.py);
   anything else fails the booking with a reason that names it.
7. AddMutatie; record ``booked`` with the Factuurnummer it was booked with.
8. Mode invoice_and_payment: book the payments that arrived (app/booking/settlement.py), each
   its own claim; mode cash: steps 4-7 only once the money is in, on its date and ledger.

Transient errors are recorded as ``retrying`` and re-raised for RQ's Retry; permanent
ones are recorded as ``failed`` with e-Boekhouden's text and a Dutch explanation.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace

from app.booking.alerts import credentials_refused
from app.booking.posting import Posting
from app.booking.settlement import payment_facts, settle
from app.core.mapping import Booking, Skip, map_order
from app.core.mutations import Mutation
from app.core.orders import Order
from app.core.payments import Waiting, cash_booking
from app.errors import (
    MappingError,
    OrderDataError,
    OrderNotFoundError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)
from app.services import Services
from app.states import BookingKind, BookingMode, BookingState, JobOutcome, OrderPayment
from app.store.booking_records import Claim, OrderFacts
from app.store.history import rows_of
from app.store.shops import Shop

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    status: JobOutcome
    order_number: str
    mutation_number: int | None = None
    reason: str = ""
    payment_state: str = ""  # app.states.OrderPayment when payments are tracked
    payments_booked: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def book_order(services: Services, shop: Shop, order_number: str) -> Outcome:
    mode = shop.mapping.booking_mode
    if services.booked.is_booked(shop.id, order_number) and (
        mode != BookingMode.INVOICE_AND_PAYMENT
        or services.store.payments.is_settled(shop.id, order_number)
    ):
        return Outcome(JobOutcome.ALREADY_BOOKED, order_number)
    if order_number.upper().startswith("T-"):  # test orders: never booked, never fetched,
        # and nothing recorded: anyone with the webhook secret could invent such numbers
        # (the webhook answers them without a job; the passes never list test orders).
        reason = f"Bestelling {order_number} is een testbestelling."
        return Outcome(JobOutcome.SKIPPED, order_number, reason=reason)
    try:
        order = services.shop_api(shop).get_order(order_number)
        decision = map_order(order, shop.mapping)
    except OrderNotFoundError as err:
        log.warning(
            "order not found in Mijnwebwinkel", extra={"shop_id": shop.id, "order": order_number}
        )
        return Outcome(JobOutcome.NOT_FOUND, order_number, reason=err.explanation)
    except OrderDataError as err:
        return _fail_unbookable(services, shop, order_number, err, None)
    except MappingError as err:
        return _fail_unbookable(services, shop, order_number, err, order)
    if isinstance(decision, Skip):
        services.store.bookings.record_unclaimed(
            shop.id,
            order_number,
            state=BookingState.SKIPPED,
            reason=decision.reason,
            facts=OrderFacts(order.uuid, total=order.total, date=order.date),
        )
        return Outcome(JobOutcome.SKIPPED, order_number, reason=decision.reason)
    if mode == BookingMode.CASH:  # only paid orders, on the payment date and ledger
        cash = _cash_decision(services, shop, order, decision)
        if isinstance(cash, Outcome):
            return cash
        decision = cash

    # Set with the claim, before the invoice may reach e-Boekhouden: its payments are
    # now owed, so a worker that dies after the invoice leaves the order for the reconciler.
    payment_state = {
        BookingMode.INVOICE_AND_PAYMENT: OrderPayment.OPEN,
        BookingMode.CASH: OrderPayment.SETTLED,
    }.get(mode)
    claim = services.store.bookings.claim(
        shop.id,
        order_number,
        OrderFacts(
            order.uuid,
            decision.kind,
            decision.total,
            order.date,
            invoice_number=decision.invoice_number,
        ),
        lease_seconds=services.lease_seconds,
        payment_state=payment_state,
    )
    if claim == BookingState.BOOKED:
        services.booked.mark_booked(shop.id, order_number)
        outcome = Outcome(JobOutcome.ALREADY_BOOKED, order_number)
    elif not isinstance(claim, Claim):
        return Outcome(
            JobOutcome.FAILED if claim == BookingState.FAILED else JobOutcome.IN_PROGRESS,
            order_number,
        )
    else:
        outcome = _post_claimed(services, shop, decision, claim)
    if mode == BookingMode.INVOICE_AND_PAYMENT and outcome.status in (
        JobOutcome.BOOKED,
        JobOutcome.ALREADY_BOOKED,
    ):
        settled = settle(services, shop, order, decision)
        outcome = replace(
            outcome,
            payment_state=str(settled.state),
            payments_booked=settled.booked,
            reason=settled.reason,
        )
    return outcome


def _cash_decision(
    services: Services, shop: Shop, order: Order, booking: Booking
) -> Booking | Outcome:
    """Cash mode: the GeldOntvangen once the money is in, or why not yet."""
    facts = payment_facts(services, shop, order, credit=booking.kind == BookingKind.CREDIT)
    result = cash_booking(booking.mutations[0], booking.total, facts, shop.mapping)
    if isinstance(result, Mutation):
        return replace(booking, mutations=(result,))
    waiting = isinstance(result, Waiting)
    services.store.bookings.record_unclaimed(
        shop.id,
        order.number,
        state=BookingState.SKIPPED if waiting else BookingState.FAILED,
        reason=result.reason,
        error_code=None if waiting else "payment_method",
        facts=OrderFacts(order.uuid, booking.kind, booking.total, order.date),
    )
    services.store.payments.set_order_state(
        shop.id, order.number, OrderPayment.OPEN if waiting else OrderPayment.HELD
    )
    return Outcome(
        JobOutcome.WAITING_FOR_PAYMENT if waiting else JobOutcome.FAILED,
        order.number,
        reason=result.reason,
        payment_state=str(OrderPayment.OPEN if waiting else OrderPayment.HELD),
    )


def _fail_unbookable(
    services: Services,
    shop: Shop,
    order_number: str,
    err: OrderDataError | MappingError,
    order: Order | None,
) -> Outcome:
    """The order cannot be booked as it stands: record why, for a person to act on."""
    facts = OrderFacts(order.uuid, total=order.total, date=order.date) if order else OrderFacts()
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


def _post_claimed(services: Services, shop: Shop, booking: Booking, claim: Claim) -> Outcome:
    bookkeeping = services.bookkeeping(shop)
    posting = Posting(services, shop, bookkeeping, booking, claim)
    try:
        numbers, relation_code = posting.run()
    except UpstreamRejectedError as err:
        services.store.bookings.mark_failed(
            claim, error_code=err.code, error=str(err), reason=err.explanation
        )
        credentials_refused(services, shop, err)  # mails at once (if opted in)
        return Outcome(JobOutcome.FAILED, booking.order_number, reason=err.explanation)
    except UpstreamUnavailableError as err:
        services.store.bookings.mark_retrying(
            claim,
            error=str(err),
            reason=f"{err.explanation} We proberen het automatisch opnieuw.",
            uncertain=posting.maybe_posted,
        )
        raise
    services.store.bookings.mark_booked(
        claim.booking_id,
        shop_id=shop.id,
        mutation_number=numbers[booking.mutations[0].soort],
        payment_mutation_number=None,
        relation_code=relation_code,
        rows=rows_of(booking.mutations, numbers),
        warnings=posting.warnings,
        first_attempt=claim.attempts == 1,
    )
    services.booked.mark_booked(shop.id, booking.order_number)
    log.info(
        "order booked",
        extra={
            "shop_id": shop.id,
            "order": booking.order_number,
            "mutation": numbers[booking.mutations[0].soort],
        },
    )
    return Outcome(JobOutcome.BOOKED, booking.order_number, numbers[booking.mutations[0].soort])
