"""The money of one booked order: its payments, each booked exactly once, separately.

Called by the pipeline (app/booking/pipeline.py) once an invoice or credit note is booked,
in the modes with payments. The money of a sale and its credit notes lives in one place
(the sale's payments listing), so it is settled for the whole family at once
(app/booking/family.py):

1. Payment facts from Mijnwebwinkel: ``GET /orders/{sale}/payments``; the sale's
   deprecated ``payment_status`` / ``payment`` when the listing is empty or not offered.
2. Plan them (pure): the sale's captures on its invoice (app/core/payments.py), its
   refunds over its credit notes (app/core/refunds.py), each under the Factuurnummer and
   relation its invoice was booked with; record the plan in the payments register
   (app/store/payments.py): one row per capture or refund.
3. Each row to post is claimed (a lease, like the invoice's), looked up by Factuurnummer
   first when an earlier attempt may have reached e-Boekhouden (adopted only when it is
   ours: app/booking/payment_posting.py), then posted.
4. Each member's payment state (open / held / not_booked / settled) is written; a
   settled order costs no further call (the fast path and the reconciler read it from SQL).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from decimal import Decimal

from app.booking.family import POSTED, Family, family_of, invoice_of, tracked
from app.booking.payment_posting import LegacyInvoices, post_payment
from app.clients import BookkeepingApi
from app.core.mapping import Booking
from app.core.orders import Order
from app.core.payment_facts import CAPTURE, REFUND, PaymentFacts
from app.core.payments import (
    HELD,
    MANUAL,
    NOT_BOOKED_STATE,
    POST,
    PlannedPayment,
    plan_payments,
)
from app.services import Services
from app.states import BookingKind, BookingMode, BookingState, OrderPayment, PaymentState
from app.store.booking_records import BookingRecord
from app.store.payment_queries import AWAITING
from app.store.payment_records import PaymentClaim, PaymentRecord, PaymentRow
from app.store.shops import Shop

log = logging.getLogger(__name__)
PLAN_STATES = {
    HELD: PaymentState.HELD,
    NOT_BOOKED_STATE: PaymentState.NOT_BOOKED,
    MANUAL: PaymentState.MANUAL,
}
TO_POST = (PaymentState.PENDING, PaymentState.RETRYING, PaymentState.POSTING)
ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class Settlement:
    state: OrderPayment | None  # None: this order's payments are not booked (not tracked)
    booked: int = 0  # payments posted (or found) in this run
    reason: str = ""  # Dutch, when something is held back or failed


def settle(services: Services, shop: Shop, order: Order, booking: Booking) -> Settlement:
    """Book what has been paid (or refunded) of a booked invoice or credit note, and of
    the rest of its family; raises UpstreamUnavailableError after recording it (RQ
    retries the job, which comes back here)."""
    record = services.store.bookings.get(shop.id, booking.order_number)
    if not tracked(record, shop.mapping):
        if record is not None and record.payment_state in AWAITING:
            services.store.payments.set_order_state(shop.id, booking.order_number, None)
        return Settlement(None)
    credit = booking.kind == BookingKind.CREDIT
    family = family_of(services, shop, order, credit)
    if family is None:  # a credit order that names no sale: its refunds cannot be found
        return Settlement(
            OrderPayment.OPEN,
            reason=(
                f"Creditbestelling {order.number} noemt geen bestelling die ze crediteert; "
                "haar terugbetaling kan de koppeling niet vinden. Boek die met de hand."
            ),
        )
    store = services.store.payments
    fixed = {
        r.payment_key: r.order_number
        for r in store.family(shop.id, family.sale_number, family.members)
        if r.kind != CAPTURE and r.state in POSTED
    }
    planned, outstanding = _plan(family, fixed, shop)
    legacy = LegacyInvoices(services, shop, family.records)
    records = store.record_family(
        shop.id, family.sale_number, [_row(p) for p in planned], family.members
    )
    mutations = {p.key: p.mutation for p in planned if p.mutation is not None}
    posted = 0
    bookkeeping: BookkeepingApi | None = None
    try:
        for row in records:
            mutation = mutations.get(row.payment_key)
            if row.state not in TO_POST or mutation is None:
                continue
            claim = store.claim(row.id, lease_seconds=services.lease_seconds)
            if not isinstance(claim, PaymentClaim):
                continue
            bookkeeping = bookkeeping or services.bookkeeping(shop)
            number = legacy.invoice_number(bookkeeping, row.order_number, claim)
            if number is None:
                continue  # held with the reason why (LegacyInvoices)
            mutation = replace(mutation, invoice_number=number)
            if post_payment(services, shop, bookkeeping, row, claim, mutation, records):
                posted += 1
    finally:
        records = store.family(shop.id, family.sale_number, family.members)
        states = _states(records, outstanding)
        store.set_order_states(shop.id, states)
    mine = [r for r in records if r.order_number == order.number]
    reasons = [r.reason for r in mine if r.state in (PaymentState.HELD, PaymentState.FAILED)]
    state = states.get(order.number)
    log.info(
        "payments settled",
        extra={
            "shop_id": shop.id,
            "order": order.number,
            "payment_state": str(state),
            "posted": posted,
        },
    )
    return Settlement(state, posted, next((r for r in reasons if r), ""))


def _plan(
    family: Family, fixed: dict[str, str], shop: Shop
) -> tuple[list[PlannedPayment], dict[str, Decimal]]:
    """The family's payments as planned, and per tracked member what is still to come."""
    settings = shop.mapping
    planned: list[PlannedPayment] = []
    outstanding: dict[str, Decimal] = {}
    sale = family.records.get(family.sale_number)
    if sale is not None and tracked(sale, settings):
        invoice = invoice_of(sale, settings, family.sale_number)
        plan = plan_payments(invoice, _only(family.facts, CAPTURE), settings)
        planned += plan.payments
        outstanding[family.sale_number] = plan.outstanding
    allocation = family.allocation(fixed)
    refunds = family.facts.of_kind(REFUND)
    for note in family.credits:
        mine = allocation.of(note.number, refunds)
        record = family.records.get(note.number)
        if record is not None and tracked(record, settings):
            invoice = invoice_of(record, settings, note.number)
            plan = plan_payments(invoice, PaymentFacts(tuple(mine), family.facts.source), settings)
            planned += plan.payments
            outstanding[note.number] = plan.outstanding
            continue
        booked = record is not None and record.state == BookingState.BOOKED
        reason = _unfollowed(note.number, record) if booked else ""
        for move in mine:  # its credit note is not booked (yet), or booked without payments
            planned.append(
                PlannedPayment(
                    move.key,
                    move.kind,
                    move.date,
                    -move.amount,
                    move.method,
                    "",
                    MANUAL if booked else POST,  # POST without a mutation: waits for it
                    reason=reason or f"Wacht tot creditnota {note.number} geboekt is.",
                    order_number=note.number,
                )
            )
    for move in refunds:
        if move.key in allocation.held:
            planned.append(
                PlannedPayment(
                    move.key,
                    move.kind,
                    move.date,
                    -move.amount,
                    move.method,
                    "",
                    HELD,
                    reason=allocation.held[move.key],
                    order_number=family.sale_number,
                )
            )
    return planned, outstanding


def _unfollowed(number: str, record: BookingRecord | None) -> str:
    """Why a refund on this booked credit note is not booked as a payment."""
    if record is not None and record.booking_mode == BookingMode.CASH:
        return (
            f"Creditnota {number} is als kasboeking (Geld ontvangen) geboekt; deze "
            "terugbetaling zit daarin."
        )
    return (
        f"Creditnota {number} is geboekt zonder betalingen (manier van boeken: factuur); "
        "deze terugbetaling verwerkt de boekhouder zelf."
    )


def _only(facts: PaymentFacts, kind: str) -> PaymentFacts:
    return PaymentFacts(tuple(m for m in facts.movements if m.kind == kind), facts.source)


def _row(p: PlannedPayment) -> PaymentRow:
    return PaymentRow(
        p.key,
        p.kind,
        p.method,
        p.date,
        p.amount,
        p.ledger,
        PLAN_STATES.get(p.state, PaymentState.PENDING),
        p.reason,
        p.order_number,
    )


def _states(
    records: list[PaymentRecord], outstanding: dict[str, Decimal]
) -> dict[str, OrderPayment]:
    """Where each tracked member's money stands now."""
    states: dict[str, OrderPayment] = {}
    for number, left in outstanding.items():
        rows = [r for r in records if r.order_number == number]
        if any(r.state in (PaymentState.HELD, PaymentState.FAILED) for r in rows):
            states[number] = OrderPayment.HELD
        elif left > ZERO or any(r.state in TO_POST for r in rows):
            states[number] = OrderPayment.OPEN
        elif any(r.state == PaymentState.NOT_BOOKED for r in rows):
            states[number] = OrderPayment.NOT_BOOKED
        else:
            states[number] = OrderPayment.SETTLED
    return states
