"""PURE: a sale's refunds allocated over its credit orders, each refund to one credit note.

Mijnwebwinkel keeps the money of a sale and of all its credit orders in one place: the
sale's payments listing (credit orders "do not have any direct payment information",
NOTES.md §6.5). A refund names no credit order, so the connector allocates them
(docs/booking-rules.md, "Refunds over credit notes"):

1. Refunds already booked (or being booked) on a credit note stay where they are.
2. The others, oldest first (date, then id): **by amount** to the first credit note whose
   open amount is exactly the refund; otherwise **by date** to the first credit note
   (oldest, then lowest number) with room for the whole refund.
3. A refund is never split over two credit notes (one refund is one line on the payment
   provider's statement, so it is one payment mutation). A refund that fits nowhere
   (no credit order at all, or more refunded than credited) is held on the sale with a
   reason; it is never booked by guess.

Greedy in date order, so a refund that arrives later never moves an earlier one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from app.core.mutations import euro
from app.core.payment_facts import MoneyMovement, method_label

ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class CreditNote:
    """A credit order of the sale, as far as allocation cares."""

    number: str
    total: Decimal  # what it credits, positive
    date: dt.date


@dataclass(frozen=True, slots=True)
class Allocation:
    to: dict[str, str]  # refund key → credit note number
    held: dict[str, str]  # refund key → why it is booked on none (Dutch)

    def of(self, credit_number: str, refunds: Iterable[MoneyMovement]) -> list[MoneyMovement]:
        """The refunds allocated to this credit note."""
        return [r for r in refunds if self.to.get(r.key) == credit_number]


def _order(credit: CreditNote) -> tuple[dt.date, int, str]:
    return credit.date, len(credit.number), credit.number


def allocate_refunds(
    sale_number: str,
    credits: Iterable[CreditNote],
    refunds: Iterable[MoneyMovement],
    fixed: Mapping[str, str],
) -> Allocation:
    """Each refund to one credit note, or held with a reason. ``fixed``: refund key →
    credit note number for refunds booked (or being booked) already."""
    notes = sorted({c.number: c for c in credits}.values(), key=_order)
    moves = sorted(refunds, key=lambda m: (m.date, m.key))
    room = {c.number: c.total for c in notes}
    to: dict[str, str] = {}
    for move in moves:
        if move.key in fixed:
            to[move.key] = fixed[move.key]
            if fixed[move.key] in room:
                room[fixed[move.key]] -= move.amount
    held: dict[str, str] = {}
    for move in moves:
        if move.key in to:
            continue
        exact = next((c for c in notes if room[c.number] == move.amount), None)
        fits = exact or next((c for c in notes if room[c.number] >= move.amount), None)
        if fits is None:
            held[move.key] = _unallocated(sale_number, move, notes, room)
            continue
        to[move.key] = fits.number
        room[fits.number] -= move.amount
    return Allocation(to, held)


def _unallocated(
    sale: str, move: MoneyMovement, notes: list[CreditNote], room: Mapping[str, Decimal]
) -> str:
    head = (
        f"Bij bestelling {sale} is op {move.date:%d-%m-%Y} {euro(move.amount)} "
        f"terugbetaald ({method_label(move.method)})"
    )
    advice = (
        "De terugbetaling is niet geboekt. Maak in Mijnwebwinkel een creditbestelling voor "
        "dit bedrag; dan boekt de koppeling haar bij die creditnota. Boek haar niet met de "
        "hand, anders staat ze er straks twee keer."
    )
    if not notes:
        return f"{head}, maar er is geen creditbestelling die dat bedrag crediteert. {advice}"
    numbers = ", ".join(c.number for c in notes)
    left = sum((max(r, ZERO) for r in room.values()), ZERO)
    if left >= move.amount:
        return (
            f"{head}: meer dan één creditnota nog open heeft (creditbestellingen {numbers}, "
            f"samen nog {euro(left)} open). De koppeling boekt één terugbetaling op één "
            "creditnota en verdeelt haar niet; ze is niet geboekt. Boek haar met de hand in "
            "e-Boekhouden, verdeeld over die creditnota's."
        )
    return (
        f"{head}: meer dan haar creditbestellingen ({numbers}) nog crediteren "
        f"({euro(left)}). {advice}"
    )
