"""PURE: is a mutation e-Boekhouden already has under our Factuurnummer ours?

When AddMutatie answers that the Factuurnummer exists, or the recovery look-up finds it,
the order may have been booked by an earlier attempt whose answer was lost: then we adopt
that mutation. But the number may also belong to another shop's order on the same
administration, or to an invoice made by hand: adopting that one would record the order
as booked while its revenue never reaches the books. So a mutation is ours only with the
same Soort, the same relation code, the same total and, when e-Boekhouden returns rows,
the same rows (ledger, BTW code, amount incl. VAT).
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from app.core.mutations import SOORT_LABELS, BookedMutation, Mutation, Soort, euro


def soort_label(value: str) -> str:
    """A Soort as e-Boekhouden's screens name it (an unknown one as it came)."""
    return SOORT_LABELS.get(Soort(value), value) if value in tuple(Soort) else value


def difference(booked: BookedMutation, mutation: Mutation, relation_codes: set[str]) -> str:
    """Why ``booked`` is not ``mutation`` (Dutch), or "" when it is ours."""
    if booked.soort != mutation.soort.value:
        return f"het is een {soort_label(booked.soort)}, geen {mutation.soort.label}"
    wanted = {code.casefold() for code in relation_codes if code}
    if booked.relation_code.casefold() not in wanted:
        shown = booked.relation_code or "geen relatie"
        return f"ze staat op relatie {shown}, niet op {mutation.relation_code}"
    if booked.total != mutation.total:
        return f"het totaal is {euro(booked.total)}, niet {euro(mutation.total)}"
    if booked.rows and _rows(booked.rows) != _rows(
        tuple((r.ledger, r.btw_code, r.amount_incl) for r in mutation.rows)
    ):
        return "de boekingsregels (grootboekrekening, BTW-code of bedrag) verschillen"
    return ""


def payment_difference(booked: BookedMutation, mutation: Mutation, relation_codes: set[str]) -> str:
    """Why ``booked`` is not this payment (Dutch), or "" when it is ours: a payment is
    adopted after a lost answer only with the same Soort, Factuurnummer, relation, amount,
    date and ledger (Rekening, where e-Boekhouden returns it). Two payments of one invoice
    on one day with one amount are told apart by the caller (a mutation one payment row
    owns is not another's)."""
    if booked.invoice_number.strip().casefold() != mutation.invoice_number.strip().casefold():
        return f"het factuurnummer is {booked.invoice_number}, niet {mutation.invoice_number}"
    why = difference(booked, mutation, relation_codes)
    if why:
        return why
    if booked.date != mutation.date:
        day = booked.date.strftime("%d-%m-%Y") if booked.date else "onbekend"
        return f"de datum is {day}, niet {mutation.date:%d-%m-%Y}"
    if booked.ledger and booked.ledger.casefold() != mutation.ledger.casefold():
        return f"ze staat op rekening {booked.ledger}, niet op {mutation.ledger}"
    return ""


# Codes e-Boekhouden treats as one: the REST API knows LAAG_VERK only as LAAG_VERK_9 (9 %
# since 2019), so a shop whose settings still say LAAG_VERK finds it back under that name.
SAME_CODE = {"LAAG_VERK": "LAAG_VERK_9"}


def _rows(rows: tuple[tuple[str, str, Decimal], ...]) -> Counter[tuple[str, str, Decimal]]:
    return Counter(
        (ledger.casefold(), SAME_CODE.get(code.upper(), code.upper()), amount)
        for ledger, code, amount in rows
    )


def not_ours_message(order_number: str, booked: BookedMutation, reason: str) -> str:
    """The Dutch reason a booking fails with: which mutation is in the way, what to do."""
    day = booked.date.strftime("%d-%m-%Y") if booked.date else "onbekende datum"
    return (
        f"Factuurnummer {booked.invoice_number} bestaat al in e-Boekhouden (mutatie "
        f"{booked.number}, {soort_label(booked.soort)} van {day}, {euro(booked.total)}), "
        f"maar dat is niet de boeking van bestelling {order_number}: {reason}. De bestelling "
        "is niet geboekt. Boeken twee webwinkels in deze administratie, geef elke webwinkel bij "
        "Instellingen een eigen factuurnummer (bijvoorbeeld W1-{number}); is de bestaande "
        "mutatie met de hand gemaakt, geef haar een ander factuurnummer of verwijder haar. "
        "Probeer de bestelling daarna opnieuw."
    )
