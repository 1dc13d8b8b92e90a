"""Posting one claimed payment: looked up first when it may be there already (adopted only
when it is ours, like an invoice: app/core/adoption.py), then AddMutatie.

And the Factuurnummer of an invoice booked before the connector stored it (migration
0005): then the only format there was, the bare order number, checked against
e-Boekhouden (the invoice under that number must be the booking's own mutation) before
any payment carries it; otherwise the payment is held with a reason.
"""

from __future__ import annotations

import logging

from app.clients import BookkeepingApi
from app.core.adoption import payment_difference
from app.core.mutations import Mutation, Soort
from app.errors import (
    BookkeepingAuthError,
    DuplicateInvoiceError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)
from app.services import Services
from app.store.booking_records import BookingRecord
from app.store.payment_records import PaymentClaim, PaymentRecord
from app.store.shops import Shop

log = logging.getLogger(__name__)
INVOICES = (Soort.FACTUUR_VERSTUURD.value,)


WAITS = "De betaling wordt vanzelf geboekt zodra de inloggegevens weer werken."


def post_payment(
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

    def look_up() -> int | None:
        services.count_get_mutaties(shop)  # GetMutaties: 5,000 a month per administration
        return already_there(bookkeeping, row, mutation, records)

    try:
        found = look_up() if claim.needs_check else None
        if found is None:
            store.mark_uncertain(claim)
            maybe_posted = True
            try:
                found = bookkeeping.add_mutation(mutation)
            except DuplicateInvoiceError:
                found = look_up()
                if found is None:
                    raise
        store.mark_booked(claim, found)
        log.info(
            "payment booked",
            extra={"order": row.order_number, "mutation": found, "payment": row.payment_key},
        )
        return True
    except BookkeepingAuthError as err:
        # The shop's credentials, not this payment: it waits (retrying; a refused call
        # was not processed) and is booked once they work again (app/booking/healing.py).
        store.mark_retrying(
            claim, error=str(err), uncertain=False, reason=f"{err.explanation} {WAITS}"
        )
        raise
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


def already_there(
    bookkeeping: BookkeepingApi,
    row: PaymentRecord,
    mutation: Mutation,
    records: list[PaymentRecord],
) -> int | None:
    """The mutation number of this payment if e-Boekhouden has it: a
    FactuurbetalingOntvangen under the invoice's own Factuurnummer, on its relation, with
    this amount, date and ledger, that no other payment row already owns. Anything else
    under that number (another shop's payment, one made by hand) is not taken."""
    taken = {r.mutation_number for r in records if r.mutation_number and r.id != row.id}
    codes = {mutation.relation_code}
    for booked in bookkeeping.find_mutations(mutation.invoice_number):
        if booked.number in taken or booked.soort != Soort.FACTUURBETALING_ONTVANGEN:
            continue
        why = payment_difference(booked, mutation, codes)
        if not why:
            return booked.number
        log.info(
            "payment look-up: not ours",
            extra={"order": row.order_number, "mutation": booked.number, "why": why},
        )
    return None


class LegacyInvoices:
    """The Factuurnummer each payment of a family carries: the one stored on the booking;
    for a booking from before it was stored, the bare order number once e-Boekhouden
    shows the booking's own invoice under it (then stored)."""

    def __init__(
        self, services: Services, shop: Shop, records: dict[str, BookingRecord | None]
    ) -> None:
        self.services, self.shop, self.records = services, shop, records
        self.known: dict[str, str | None] = {}

    def invoice_number(
        self, bookkeeping: BookkeepingApi, order_number: str, claim: PaymentClaim
    ) -> str | None:
        """The number, or None after failing the claimed payment with the reason why (failed,
        not held: it is not planned again each pass, so no look-up is repeated; "Opnieuw
        proberen" tries once more)."""
        record = self.records.get(order_number)
        if record is not None and record.invoice_number:
            return record.invoice_number
        if order_number not in self.known:
            self.known[order_number] = self._resolve(bookkeeping, order_number, record)
        number = self.known[order_number]
        if number is None:
            self.services.store.payments.mark_failed(
                claim,
                error_code="legacy_invoice",
                error=f"no invoice of booking {order_number} under Factuurnummer {order_number}",
                reason=(
                    f"Bestelling {order_number} is geboekt voordat de koppeling het "
                    "factuurnummer bewaarde, en in e-Boekhouden staat onder factuurnummer "
                    f"{order_number} niet haar eigen factuur (mutatie "
                    f"{record.mutation_number if record else 'onbekend'}). De betaling is niet "
                    "geboekt, zodat ze niet op een andere factuur terechtkomt. Boek haar met "
                    "de hand op de juiste factuur."
                ),
            )
        return number

    def _resolve(
        self, bookkeeping: BookkeepingApi, order_number: str, record: BookingRecord | None
    ) -> str | None:
        if record is None or not record.mutation_number:
            return None
        self.services.count_get_mutaties(self.shop)
        for booked in bookkeeping.find_mutations(order_number):
            if booked.number == record.mutation_number and booked.soort in INVOICES:
                self.services.store.payments.set_invoice_number(
                    self.shop.id, order_number, booked.invoice_number or order_number
                )
                return booked.invoice_number or order_number
        return None
