"""PURE: a shop's start date ("Boek bestellingen vanaf"): whether an order was placed
before it, and how people write and read it.

Orders carry their placement as a shop-local date and time (Mijnwebwinkel's ``date`` and
``time``, presumably Europe/Amsterdam: docs/assumptions.md); the start date is kept in
UTC. An order without a time counts as placed at the start of its day only when that day
is before the start date's day: on the start day itself it is booked (a missing order is
found by the Controle report; a double booking is not found by anyone).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SHOP_TZ = ZoneInfo("Europe/Amsterdam")
FORMATS = ("%Y-%m-%d %H:%M", "%d-%m-%Y %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d", "%d-%m-%Y")
EARLIEST = dt.date(2000, 1, 1)
EXAMPLE = "dd-mm-jjjj uu:mm, bijvoorbeeld 01-12-2026 09:00 (of alleen een datum)"


def placed_before(
    date: dt.date | None, time: dt.time | None, book_from: dt.datetime | None
) -> bool:
    """True when the order was placed before ``book_from`` (False without a start date
    or an order date)."""
    if book_from is None or date is None:
        return False
    start = book_from.astimezone(SHOP_TZ)
    if time is None:
        return date < start.date()
    return dt.datetime.combine(date, time, SHOP_TZ) < start


def local_text(book_from: dt.datetime) -> str:
    """``dd-mm-jjjj uu:mm`` in shop-local time, as the pages show and take it."""
    return book_from.astimezone(SHOP_TZ).strftime("%d-%m-%Y %H:%M")


def parse_start(text: str, now: dt.datetime) -> dt.datetime:
    """A start date as a person writes it (shop-local; a date alone is its midnight) →
    UTC. Raises ValueError with a Dutch message that says what to write."""
    text = " ".join((text or "").split())
    for fmt in FORMATS:
        try:
            parsed = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        if parsed.date() < EARLIEST:
            raise ValueError("Kies een startdatum na 1 januari 2000.")
        when = parsed.replace(tzinfo=SHOP_TZ).astimezone(dt.UTC)
        if when > now + dt.timedelta(days=366):
            raise ValueError("De startdatum ligt meer dan een jaar in de toekomst.")
        return when
    raise ValueError(f"Vul de startdatum in als {EXAMPLE}.")


def before_start_reason(order_number: str, book_from: dt.datetime) -> str:
    return (
        f"Bestelling {order_number} is geplaatst vóór de startdatum van deze koppeling "
        f"({local_text(book_from)}) en wordt daarom niet vanzelf geboekt. Moet zij toch in "
        "e-Boekhouden: kies Inhalen met een datum vanaf haar besteldatum."
    )
