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
ones are recorded as ``failed`` with e-Boekhouden's text and a Dutch explanation, and
whose they are (``failure_cause``): the order's, or the system's. Refused credentials
stop the shop's booking; orders met meanwhile are held as failed for a system reason and
booked by themselves once the credentials work (app/booking/healing.py).

An order placed before the shop's start date is skipped, unless a person asked for it
(``on_request``: Inhalen, ``reconcile --since``, "Opnieuw proberen", ``flask book``) or
the register already has it in progress (it passed this check when it was first met).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from app.booking.family import cash_facts
from app.booking.healing import booking_stopped, failure_cause, held_reason, refused
from app.booking.outcome import Outcome as Outcome
from app.booking.posting import Posting
from app.booking.settlement import settle
from app.booking.unposted import before_start, fail_unbookable, hold, skip_before_start
from app.core.mapping import Booking, Skip, map_order
from app.core.mutations import Mutation
from app.core.orders import Order
from app.core.payment_facts import PaymentFacts
from app.core.payments import Waiting, cash_booking
from app.errors import (
    BookkeepingAuthError,
    MappingError,
    OrderDataError,
    OrderNotFoundError,
    RateLimitedError,
    ShopAuthError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)
from app.services import Services
from app.states import (
    BookingKind,
    BookingMode,
    BookingState,
    FailureCause,
    JobOutcome,
    OrderPayment,
)
from app.store.booking_records import Claim, OrderFacts
from app.store.history import rows_of
from app.store.shop_lifecycle import MIJNWEBWINKEL
from app.store.shops import Shop

log = logging.getLogger(__name__)
RETRY_LATER = "We proberen het automatisch opnieuw."


def book_order(
    services: Services, shop: Shop, order_number: str, *, on_request: bool = False
) -> Outcome:
    """Book one order (see the module docstring); ``on_request``: a person asked for it."""
    mode = shop.mapping.booking_mode
    if services.booked.is_booked(shop.id, order_number) and (
        mode == BookingMode.INVOICE
        or not services.store.payments.needs_settling(shop.id, order_number)
    ):
        return Outcome(JobOutcome.ALREADY_BOOKED, order_number)
    if order_number.upper().startswith("T-"):  # test orders: never booked, never fetched,
        # and nothing recorded: anyone with the webhook secret could invent such numbers
        # (the webhook answers them without a job; the passes never list test orders).
        reason = f"Bestelling {order_number} is een testbestelling."
        return Outcome(JobOutcome.SKIPPED, order_number, reason=reason)
    if booking_stopped(shop) and shop.status_system == MIJNWEBWINKEL:
        # Nothing can be read: the first pass that can lists this order again.
        return Outcome(JobOutcome.HELD, order_number, reason=held_reason(shop))
    try:
        order = services.shop_api(shop).get_order(order_number)
        if not on_request and before_start(services, shop, order):
            return skip_before_start(services, shop, order)
        decision = map_order(order, shop.mapping)
    except ShopAuthError as err:
        refused(services, shop, err)
        return Outcome(JobOutcome.HELD, order_number, reason=err.explanation)
    except OrderNotFoundError as err:
        log.warning(
            "order not found in Mijnwebwinkel", extra={"shop_id": shop.id, "order": order_number}
        )
        return Outcome(JobOutcome.NOT_FOUND, order_number, reason=err.explanation)
    except OrderDataError as err:
        return fail_unbookable(services, shop, order_number, err, None)
    except MappingError as err:
        return fail_unbookable(services, shop, order_number, err, order)
    if isinstance(decision, Skip):
        services.store.bookings.record_unclaimed(
            shop.id,
            order_number,
            state=BookingState.SKIPPED,
            reason=decision.reason,
            facts=OrderFacts(
                order.uuid, total=order.total, date=order.date, customer=order.customer
            ),
        )
        return Outcome(JobOutcome.SKIPPED, order_number, reason=decision.reason)
    if mode == BookingMode.CASH and not _booked_before(services, shop, order_number):
        cash = _cash_decision(services, shop, order, decision)  # only paid orders, on
        if isinstance(cash, Outcome):  # the payment date and ledger
            return cash
        decision = cash
    if booking_stopped(shop):  # e-Boekhouden refuses the credentials: post nothing now
        return hold(services, shop, order, decision)

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
            destination=decision.vat.destination,
            buyer_vat_number=decision.vat.buyer_vat_number,
            oss_amounts=[amount.to_json() for amount in decision.oss],
            customer=order.customer,
        ),
        lease_seconds=services.lease_seconds,
        payment_state=payment_state,
        booking_mode=mode,
    )
    if claim == BookingState.BOOKED:
        services.booked.mark_booked(shop.id, order_number)
        outcome = Outcome(JobOutcome.ALREADY_BOOKED, order_number)
    elif claim == BookingState.FAILED:  # waits for a person: say what they read
        row = services.store.bookings.get(shop.id, order_number)
        return Outcome(JobOutcome.FAILED, order_number, reason=(row.reason if row else "") or "")
    elif not isinstance(claim, Claim):
        return Outcome(JobOutcome.IN_PROGRESS, order_number)
    else:
        outcome = _post_claimed(services, shop, decision, claim)
    # Modes with payments: the money of an invoice booked in one (or followed since a
    # switch); settle() itself costs no call for an order whose payments are not booked.
    if mode != BookingMode.INVOICE and outcome.status in (
        JobOutcome.BOOKED,
        JobOutcome.ALREADY_BOOKED,
    ):
        try:
            settled = settle(services, shop, order, decision)
        except (BookkeepingAuthError, ShopAuthError) as err:  # the payments wait for the heal
            refused(services, shop, err)
            return replace(outcome, reason=held_reason(shop, err.explanation))
        if settled.state is not None:
            outcome = replace(
                outcome,
                payment_state=str(settled.state),
                payments_booked=settled.booked,
                reason=settled.reason,
            )
    return outcome


def _booked_before(services: Services, shop: Shop, order_number: str) -> bool:
    """Cash mode: an order booked already (before a switch to cash: its invoice is in
    e-Boekhouden, its payments are settled, not a GeldOntvangen made)."""
    record = services.store.bookings.get(shop.id, order_number)
    return record is not None and record.state == BookingState.BOOKED


def _cash_decision(
    services: Services, shop: Shop, order: Order, booking: Booking
) -> Booking | Outcome:
    """Cash mode: the GeldOntvangen once the money is in, or why not yet."""
    credit = booking.kind == BookingKind.CREDIT
    no_money = booking.total == 0  # paid with a gift card or store credit: nothing to wait for
    facts = PaymentFacts((), "order") if no_money else cash_facts(services, shop, order, credit)
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
        facts=OrderFacts(
            order.uuid, booking.kind, booking.total, order.date, customer=order.customer
        ),
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


def _post_claimed(services: Services, shop: Shop, booking: Booking, claim: Claim) -> Outcome:
    bookkeeping = services.bookkeeping(shop)
    posting = Posting(services, shop, bookkeeping, booking, claim)
    try:
        numbers, relation_code = posting.run()
    except UpstreamRejectedError as err:
        cause = failure_cause(err)
        reason = err.explanation
        if isinstance(err, BookkeepingAuthError):
            refused(services, shop, err)  # booking stops; mails at once (if opted in)
            reason = held_reason(shop, err.explanation)
        services.store.bookings.mark_failed(
            claim, error_code=err.code, error=str(err), reason=reason, cause=cause
        )
        status = JobOutcome.HELD if cause == FailureCause.SYSTEM else JobOutcome.FAILED
        return Outcome(status, booking.order_number, reason=reason)
    except UpstreamUnavailableError as err:
        # Asked to wait (a 429, or no free call slot): not a failure; the job is deferred.
        waiting = isinstance(err, RateLimitedError)
        services.store.bookings.mark_retrying(
            claim,
            error=str(err),
            reason=err.explanation if waiting else f"{err.explanation} {RETRY_LATER}",
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
        warnings=[*booking.notes, *posting.warnings],
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
