"""The e-Boekhouden half of one claimed booking: the relation, the look-up by Factuurnummer
when an earlier attempt may have arrived (adopting only our own mutation), AddMutatie."""

from __future__ import annotations

from dataclasses import replace

from app.booking.relations import ensure_relation
from app.clients import BookkeepingApi
from app.core.adoption import difference, not_ours_message, soort_label
from app.core.mapping import Booking
from app.core.mutations import Mutation, Relation
from app.errors import (
    DuplicateInvoiceError,
    ForeignInvoiceError,
    RateLimitedError,
    UnknownRelationError,
)
from app.services import Services
from app.store.booking_records import Claim
from app.store.shops import Shop


class Posting:
    """The e-Boekhouden half of one claimed booking."""

    def __init__(
        self,
        services: Services,
        shop: Shop,
        bookkeeping: BookkeepingApi,
        booking: Booking,
        claim: Claim,
    ) -> None:
        self.services, self.shop, self.bk = services, shop, bookkeeping
        # The Factuurnummer fixed at the first claim (a changed format applies to new
        # bookings only); bookings claimed before it was recorded used the bare number.
        self.invoice_number = claim.invoice_number or booking.invoice_number
        self.booking = replace(
            booking,
            invoice_number=self.invoice_number,
            mutations=tuple(
                replace(m, invoice_number=self.invoice_number) for m in booking.mutations
            ),
        )
        self.claim = claim
        self.maybe_posted = False  # True once an AddMutatie may have reached the server
        self.warnings: list[str] = []  # Dutch notes recorded on the booking

    def run(self) -> tuple[dict[str, int], str]:
        relation_code = self._relation(self.booking.relation)
        existing = self._already_there(relation_code) if self.claim.needs_check else {}
        numbers = dict(existing)
        for mutation in self.booking.mutations:
            if mutation.soort in numbers:
                continue
            self.maybe_posted = True  # the claim is flagged uncertain already
            try:
                numbers[mutation.soort] = self._add(mutation, relation_code)
            except RateLimitedError:  # a 429 or no free call slot: this one was not sent
                self.maybe_posted = len(numbers) > len(existing)
                raise
            except DuplicateInvoiceError as err:
                found = self._already_there(relation_code)
                if mutation.soort not in found:
                    raise DuplicateInvoiceError(
                        str(err),
                        system=err.system,
                        operation=err.operation,
                        code=err.code,
                        explanation=(
                            f"Factuurnummer {self.invoice_number} bestaat al in e-Boekhouden, "
                            "maar niet als boeking van deze bestelling. De bestelling is niet "
                            "geboekt; geef deze webwinkel bij Instellingen een eigen "
                            "factuurnummer (bijvoorbeeld W1-{number}) en probeer haar opnieuw."
                        ),
                    ) from err
                numbers[mutation.soort] = found[mutation.soort]
        return numbers, relation_code

    def _relation(self, relation: Relation) -> str:
        icp = bool(self.booking.vat.buyer_vat_number)  # the opgaaf ICP needs its own number
        code, warnings = ensure_relation(self.services, self.shop, self.bk, relation, icp=icp)
        self.warnings.extend(warnings)
        return code

    def _add(self, mutation: Mutation, relation_code: str) -> int:
        try:
            return self.bk.add_mutation(mutation.with_relation(relation_code))
        except UnknownRelationError:
            # Our cache said the relation exists, e-Boekhouden says it does not (deleted
            # by hand?): forget it, make sure it exists, and try once more. Nothing was
            # booked, so this retry cannot double anything.
            self.services.relations.forget(self.shop.id, self.booking.relation.code)
            code = self._relation(self.booking.relation)
            return self.bk.add_mutation(mutation.with_relation(code))

    def _already_there(self, relation_code: str) -> dict[str, int]:
        """Mutations of this order that e-Boekhouden already has, by Soort. A mutation
        under our Factuurnummer that is not ours raises ``ForeignInvoiceError``."""
        codes = {relation_code, self.booking.relation.code}
        ours = {m.soort.value: m.with_relation(relation_code) for m in self.booking.mutations}
        found: dict[str, int] = {}
        self.services.count_get_mutaties(self.shop)
        for booked in self.bk.find_mutations(self.invoice_number):
            if booked.invoice_number.strip().casefold() != self.invoice_number.casefold():
                continue
            mutation = ours.get(booked.soort)
            reason = (
                difference(booked, mutation, codes)
                if mutation is not None
                else f"het is een {soort_label(booked.soort)}"
            )
            if reason:
                message = not_ours_message(self.booking.order_number, booked, reason)
                raise ForeignInvoiceError(
                    f"mutation {booked.number} ({booked.soort}, {booked.date}, total "
                    f"{booked.total}, relation {booked.relation_code or '-'}) carries "
                    f"Factuurnummer {self.invoice_number} but is not the booking of order "
                    f"{self.booking.order_number}",
                    system="eboekhouden",
                    operation="GetMutaties",
                    code="foreign_invoice",
                    explanation=message,
                )
            found.setdefault(booked.soort, booked.number)
        return found
