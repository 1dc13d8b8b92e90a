"""PURE: the Dutch reasons of the open items (app/store/open_items.py): invoices whose money
has not come within the shop's payment lookback or their payment term."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from app.core.mutations import euro


def lapsed_reason(
    invoice_number: str, day: dt.date, open_amount: Decimal, lookback_days: int, booked: bool
) -> str:
    """An invoice (credit note, cash order) still not (fully) paid when the passes stop
    looking for its money."""
    credit = open_amount < 0
    if not booked:
        return (
            f"Bestelling {invoice_number} van {day:%d-%m-%Y} is {lookback_days} dagen later nog "
            f"niet betaald ({euro(abs(open_amount))}) en dus niet geboekt: zonder factuur "
            "boekt de koppeling haar pas als het geld binnen is. Komt het later, dan boekt de "
            "koppeling haar zodra de bestelling in Mijnwebwinkel verandert, of met 'Opnieuw "
            "proberen'. Is ze niet meer te verwachten, boek of annuleer haar dan zelf."
        )
    what = "creditnota" if credit else "factuur"
    done = "terugbetaald" if credit else "betaald"
    return (
        f"De {what} {invoice_number} van {day:%d-%m-%Y} is {lookback_days} dagen later nog "
        f"niet (helemaal) {done}: {euro(abs(open_amount))} staat open op de "
        "debiteurenrekening. De koppeling zoekt er niet meer elk uur naar; komt het geld "
        "later, dan boekt ze het zodra de bestelling in Mijnwebwinkel verandert, of met "
        "'Opnieuw proberen'. Controleer het bij de bank of betaalprovider, of volg "
        "betalingen langer (Instellingen → Boeken)."
    )


def overdue_reason(invoice_number: str, day: dt.date, open_amount: Decimal, term_days: int) -> str:
    return (
        f"Factuur {invoice_number} van {day:%d-%m-%Y} is over de betalingstermijn van "
        f"{term_days} dagen: {euro(open_amount)} is nog niet ontvangen. De koppeling boekt "
        "de betaling zodra ze binnenkomt."
    )
