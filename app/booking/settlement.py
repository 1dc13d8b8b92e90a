"""The money of one booked order: its payments, each booked exactly once, separately.

Called by the pipeline (app/booking/pipeline.py) once the invoice is booked (mode
"invoice_and_payment"), and for cash mode to decide whether and when the GeldOntvangen
may go. Steps for invoice_and_payment:

1. Payment facts from Mijnwebwinkel: ``GET /orders/{n}/payments`` (for a credit order,
   the listing of the order it credits: refunds live there); the order's deprecated
   ``payment_status`` / ``payment`` when the listing is empty or not offered.
2. Plan them (pure, app/core/payments.py) and record the plan in the payments register
   (app/store/payments.py): one row per capture or refund.
3. Each row to post is claimed (a lease, like the invoice's), looked up by Factuurnummer
   first when an earlier attempt may have reached e-Boekhouden (Soort, amount and date
   must match, and the mutation must not belong to another payment row), then posted.
4. The order's payment state (open / held / settled) is written; a settled order costs
   no further call (the fast path and the reconciler read it from SQL).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app.clients import BookkeepingApi
from app.core.mapping import Booking
from app.core.mutations import Mutation, Soort
from app.core.orders import Order
from app.core.payment_facts import PaymentFacts, choose_facts
from app.core.payments import HELD, NOT_BOOKED_STATE, plan_payments
from app.errors import DuplicateInvoiceError, UpstreamRejectedError, UpstreamUnavailableError
from app.services import Services
from app.states import BookingKind, OrderPayment, PaymentState
from app.store.payment_records import PaymentClaim, PaymentRecord, PaymentRow
from app.store.shops import Shop

log = logging.getLogger(__name__)
PLAN_STATES = {HELD: PaymentState.HELD, NOT_BOOKED_STATE: PaymentState.NOT_BOOKED}
TO_POST = (PaymentState.PENDING, PaymentState.RETRYING, PaymentState.POSTING)


@dataclass(frozen=True, slots=True)
class Settlement:
    state: OrderPayment
    booked: int = 0  # payments posted (or found) in this run
    reason: str = ""  # Dutch, when something is held back or failed


def payment_facts(services: Services, shop: Shop, order: Order, credit: bool) -> PaymentFacts:
    """Captures and refunds of this order (of the credited order, for a credit note)."""
    api = services.shop_api(shop)
    if credit:
        if not order.credited_order_number:
            return PaymentFacts((), "listing")
        listing = api.order_payments(order.credited_order_number)
        return listing if listing is not None else PaymentFacts((), "order")
    return choose_facts(api.order_payments(order.number), order)


def settle(services: Services, shop: Shop, order: Order, booking: Booking) -> Settlement:
    """Book what has been paid of a booked invoice; raises UpstreamUnavailableError after
    recording it (RQ retries the job, which comes back here)."""
    facts = payment_facts(services, shop, order, credit=booking.kind == BookingKind.CREDIT)
    record = services.store.bookings.get(shop.id, booking.order_number)
    relation_code = (record.relation_code if record else None) or booking.relation.code
    plan = plan_payments(booking.order_number, booking.total, relation_code, facts, shop.mapping)
    rows = [
        PaymentRow(
            p.key,
            p.kind,
            p.method,
            p.date,
            p.amount,
            p.ledger,
            PLAN_STATES.get(p.state, PaymentState.PENDING),
            p.reason,
        )
        for p in plan.payments
    ]
    records = services.store.payments.record_plan(
        shop.id, booking.order_number, rows, _order_state(records=None, plan_open=True)
    )
    mutations = {p.key: p.mutation for p in plan.payments if p.mutation is not None}
    posted = 0
    bookkeeping: BookkeepingApi | None = None
    try:
        for row in records:
            mutation = mutations.get(row.payment_key)
            if row.state not in TO_POST or mutation is None:
                continue
            claim = services.store.payments.claim(row.id, lease_seconds=services.lease_seconds)
            if not isinstance(claim, PaymentClaim):
                continue
            bookkeeping = bookkeeping or services.bookkeeping(shop)
            if _post(services, shop, bookkeeping, row, claim, mutation, records):
                posted += 1
    finally:
        records = services.store.payments.for_order(shop.id, booking.order_number)
        state = _order_state(records, plan_open=plan.outstanding > 0)
        services.store.payments.set_order_state(shop.id, booking.order_number, state)
    reasons = [
        r.reason
        for r in records
        if r.state in (PaymentState.HELD, PaymentState.FAILED) and r.reason
    ]
    log.info(
        "payments settled",
        extra={
            "shop_id": shop.id,
            "order": booking.order_number,
            "payment_state": str(state),
            "posted": posted,
        },
    )
    return Settlement(state, posted, reasons[0] if reasons else "")


def _order_state(records: list[PaymentRecord] | None, plan_open: bool) -> OrderPayment:
    if records and any(r.state in (PaymentState.HELD, PaymentState.FAILED) for r in records):
        return OrderPayment.HELD
    if plan_open or records is None or any(r.state in TO_POST for r in records):
        return OrderPayment.OPEN
    return OrderPayment.SETTLED


def _post(
    services: Services,
    shop: Shop,
    bookkeeping: BookkeepingApi,
    row: PaymentRecord,
    claim: PaymentClaim,
    mutation: Mutation,
    records: list[PaymentRecord],
) -> bool:
    """Post one claimed payment (after a look-up when it may be there already)."""
    store = services.store.payments
    maybe_posted = False
    try:
        look = claim.needs_check
        found = _already_there(services, shop, bookkeeping, row, records) if look else None
        if found is None:
            store.mark_uncertain(claim)
            maybe_posted = True
            try:
                found = bookkeeping.add_mutation(mutation)
            except DuplicateInvoiceError:
                found = _already_there(services, shop, bookkeeping, row, records)
                if found is None:
                    raise
        store.mark_booked(claim, found)
        log.info(
            "payment booked",
            extra={"order": row.order_number, "mutation": found, "payment": row.payment_key},
        )
        return True
    except UpstreamRejectedError as err:
        store.mark_failed(claim, error_code=err.code, error=str(err), reason=err.explanation)
        return False
    except UpstreamUnavailableError as err:
        store.mark_retrying(
            claim,
            error=str(err),
            uncertain=maybe_posted,
            reason=f"{err.explanation} We proberen het automatisch opnieuw.",
        )
        raise


def _already_there(
    services: Services,
    shop: Shop,
    bookkeeping: BookkeepingApi,
    row: PaymentRecord,
    records: list[PaymentRecord],
) -> int | None:
    """The mutation number of this payment if e-Boekhouden has it: a
    FactuurbetalingOntvangen under the invoice number with this amount and date that no
    other payment row of the order already owns. (A GetMutaties call: counted.)"""
    services.count_get_mutaties(shop)
    taken = {r.mutation_number for r in records if r.mutation_number and r.id != row.id}
    for booked in bookkeeping.find_mutations(row.order_number):
        if (
            booked.soort == Soort.FACTUURBETALING_ONTVANGEN
            and booked.invoice_number == row.order_number
            and booked.total == row.amount
            and booked.date == row.payment_date
            and booked.number not in taken
        ):
            return booked.number
    return None
