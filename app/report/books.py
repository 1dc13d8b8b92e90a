"""PURE: the connector's mutations of a period against e-Boekhouden's books, three lists:

- missing: booked by the connector (it has the mutation number) but not in the books;
- changed: in the books under that number, but with another Soort, date, amount, ledger
  (Rekening), invoice number or rows (ledger, BTW code, amount per row); also a mutation
  the books now date outside the period (found by its Factuurnummer);
- unknown: in the books under this shop's invoice numbers (its invoice-number format, or
  a number its register holds) but not booked by the connector.

A mutation the connector booked is matched by its number, which e-Boekhouden never
changes. Payments are compared on Soort, date, amount and Rekening (their rows are one
amount against the debtors ledger).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from app.core.adoption import SAME_CODE
from app.core.mapping_settings import NUMBER
from app.core.mutations import BookedMutation, Soort, money
from app.report.model import CHANGED, MISSING, UNKNOWN, BookDiff
from app.store.history_records import BookedRow, RegisterEntry

OURS = frozenset(s.value for s in Soort)  # the Soorten the connector books
PLAN_LIMIT = 400  # mutations expected per GetMutaties range (the cap is 500)


@dataclass
class Ours:
    """One mutation the connector booked in the period."""

    number: int
    order_number: str
    invoice_number: str
    soort: str
    date: dt.date
    total: Decimal
    account: str = ""
    rows: list[BookedRow] = field(default_factory=list)  # empty for payments
    payment: bool = False


@dataclass
class Outcome:
    missing: list[BookDiff] = field(default_factory=list)
    changed: list[BookDiff] = field(default_factory=list)
    unknown: list[BookDiff] = field(default_factory=list)
    # The books' mutations of this shop, with ours when matched (the VAT return's input)
    shop: list[tuple[BookedMutation, Ours | None]] = field(default_factory=list)


def shop_pattern(invoice_format: str) -> re.Pattern[str]:
    """The shop's invoice numbers: its format with digits for ``{number}`` (Mijnwebwinkel
    order numbers are digits; a test order ``T-…`` is never booked)."""
    head, _, tail = invoice_format.partition(NUMBER)
    return re.compile(re.escape(head) + r"\d+" + re.escape(tail), re.IGNORECASE)


def compare(
    ours: Iterable[Ours],
    theirs: Iterable[BookedMutation],
    is_shops: Callable[[str], bool],
    register: dict[str, RegisterEntry],
    known: set[int],
    elsewhere: dict[int, BookedMutation] | None = None,
) -> Outcome:
    """``register``: bookings by casefolded invoice number; ``known``: every mutation
    number the connector booked for this shop; ``elsewhere``: our mutations found outside
    the period (by Factuurnummer), by number."""
    by_number = {m.number: m for m in theirs}
    out = Outcome()
    for mine in ours:
        found = by_number.pop(mine.number, None)
        if found is None:
            moved = (elsewhere or {}).get(mine.number)
            if moved is not None and moved.date is not None:
                day = moved.date.strftime("%d-%m-%Y")
                reason = f"Staat in de boekhouding op {day}, buiten deze periode."
                out.changed.append(_diff(CHANGED, mine, moved, reason))
            else:
                reason = "Niet (meer) in de boekhouding: verwijderd?"
                out.missing.append(_diff(MISSING, mine, None, reason))
            continue
        out.shop.append((found, mine))
        reason = differences(mine, found)
        if reason:
            out.changed.append(_diff(CHANGED, mine, found, reason))
    for other in by_number.values():
        entry = register.get(other.invoice_number.strip().casefold())
        if other.number in known:
            out.shop.append((other, None))  # ours, booked with another date or no rows
            continue
        if other.soort not in OURS or not (entry is not None or is_shops(other.invoice_number)):
            continue  # another shop's, a purchase, a memoriaal: not this report's
        out.shop.append((other, None))
        reason = "Staat in de boekhouding onder een factuurnummer van deze winkel, maar is "
        reason += "niet door de koppeling geboekt."
        if entry is not None:
            reason += f" De koppeling kent bestelling {entry.order_number} ({entry.state})."
        out.unknown.append(
            BookDiff(
                UNKNOWN,
                entry.order_number if entry else "",
                other.invoice_number,
                other.number,
                None,
                other.total,
                reason,
                other.date,
            )
        )
    return out


def _diff(kind: str, mine: Ours, found: BookedMutation | None, reason: str) -> BookDiff:
    return BookDiff(
        kind,
        mine.order_number,
        mine.invoice_number,
        mine.number,
        mine.total,
        found.total if found is not None else None,
        reason,
        mine.date,
    )


def differences(mine: Ours, found: BookedMutation) -> str:
    """What differs between our mutation and the books' (Dutch), or ""."""
    out = []
    if found.soort != mine.soort:
        out.append(f"soort {found.soort}, geboekt als {mine.soort}")
    if found.date is not None and found.date != mine.date:
        out.append(f"datum {found.date:%d-%m-%Y}, geboekt op {mine.date:%d-%m-%Y}")
    if found.total != mine.total:
        out.append(f"bedrag € {money(found.total)}, geboekt € {money(mine.total)}")
    if found.ledger and mine.account and found.ledger != mine.account:
        out.append(f"rekening {found.ledger}, geboekt op {mine.account}")
    if not mine.payment and found.invoice_number.casefold() != mine.invoice_number.casefold():
        out.append(f"factuurnummer {found.invoice_number}, geboekt als {mine.invoice_number}")
    if mine.rows and found.rows:
        out.extend(_row_differences(mine.rows, found.rows))
    return "; ".join(out).capitalize() + "." if out else ""


def _row_differences(
    mine: list[BookedRow], theirs: tuple[tuple[str, str, Decimal], ...]
) -> list[str]:
    ours = Counter(_row(r.ledger, r.btw_code, r.incl) for r in mine)
    books = Counter(_row(*row) for row in theirs)
    if ours == books:
        return []
    what = []
    if Counter(c for _, c, _ in ours.elements()) != Counter(c for _, c, _ in books.elements()):
        what.append("btw-code")
    if Counter(g for g, _, _ in ours.elements()) != Counter(g for g, _, _ in books.elements()):
        what.append("grootboekrekening")
    if not what:
        what.append("bedragen")
    return ["regels verschillen (" + ", ".join(what) + ")"]


def _row(ledger: str, code: str, incl: Decimal) -> tuple[str, str, Decimal]:
    return (ledger.strip().casefold(), SAME_CODE.get(code.upper(), code.upper()), incl)


def plan(start: dt.date, end: dt.date, per_day: Counter[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Date ranges to read with GetMutaties, each expected to hold at most ``PLAN_LIMIT``
    mutations (from what the connector booked per day): a full answer then is rare, and
    a quiet period costs one call."""
    ranges: list[tuple[dt.date, dt.date]] = []
    first, count, day = start, 0, start
    while day <= end:
        if count and count + per_day[day] > PLAN_LIMIT:
            ranges.append((first, day - dt.timedelta(days=1)))
            first, count = day, 0
        count += per_day[day]
        day += dt.timedelta(days=1)
    ranges.append((first, end))
    return ranges
