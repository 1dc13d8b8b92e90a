"""PURE: the booked rows of a period → the report's lines per section, BTW code and ledger;
the payments per ledger and method; invoice numbers booked twice.

"Aantal" adds up: an order with rows on several lines (21 % and 9 %, shipping on its own
ledger) is counted once per section, on the line that carries most of its amount (ties:
the first line in order). The OSS VAT rows (the destination country's VAT on a balance
sheet ledger) are their own section, so "Totaal verkopen excl. btw" is turnover only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from app.core.mutations import Soort
from app.report.model import (
    CREDITS,
    OSS_VAT,
    PAYMENTS,
    SALES,
    SECTIONS,
    ZERO,
    Finding,
    Line,
    PaymentLine,
)
from app.states import BookingKind
from app.store.history_records import PeriodRow
from app.store.payment_records import PaymentRecord

INVOICE_PAYMENT = str(Soort.FACTUURBETALING_ONTVANGEN)
CASH = str(Soort.GELD_ONTVANGEN)
NO_VAT = "GEEN"
Key = tuple[str, str, str]  # section, BTW code, ledger


def section_of(row: PeriodRow) -> str:
    if row.row.soort == INVOICE_PAYMENT:
        return PAYMENTS
    if row.row.oss_vat:
        return OSS_VAT
    return CREDITS if row.kind == BookingKind.CREDIT else SALES


def aggregate(rows: Iterable[PeriodRow], payments: Iterable[PaymentRecord] = ()) -> list[Line]:
    """Rows → one line per (section, BTW code, ledger); payments → the payments section
    (per ledger, code GEEN, no VAT), with the money of every GeldOntvangen (cash mode) on
    its own ledger (Rekening)."""
    sums: dict[Key, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])
    per_order: dict[tuple[str, int], dict[Key, Decimal]] = defaultdict(dict)
    counts: dict[Key, int] = defaultdict(int)
    for row in rows:
        key = (section_of(row), row.row.btw_code, row.row.ledger)
        _add(sums[key], row.row.excl, row.row.vat, row.row.incl)
        shares = per_order[(key[0], row.booking_id)]
        shares[key] = shares.get(key, ZERO) + abs(row.row.incl)
        if row.row.soort == CASH and row.row.account:  # the money of a cash booking
            money = (PAYMENTS, NO_VAT, row.row.account)
            _add(sums[money], row.row.incl, ZERO, row.row.incl)
            per_order[(PAYMENTS, row.booking_id)][money] = abs(row.row.incl)
    for shares in per_order.values():
        counts[max(shares, key=lambda k: shares[k])] += 1
    for payment in payments:
        key = (PAYMENTS, NO_VAT, payment.ledger or "")
        _add(sums[key], payment.amount, ZERO, payment.amount)
        counts[key] += 1
    order = {name: i for i, name in enumerate(SECTIONS)}
    lines = [
        Line(s, code, ledger, counts[(s, code, ledger)], *v)
        for (s, code, ledger), v in sums.items()
    ]
    return sorted(lines, key=lambda x: (order[x.section], x.btw_code, x.ledger))


def _add(total: list[Decimal], excl: Decimal, vat: Decimal, incl: Decimal) -> None:
    total[0] += excl
    total[1] += vat
    total[2] += incl


def payment_lines(
    rows: Iterable[PeriodRow], payments: Iterable[PaymentRecord]
) -> list[PaymentLine]:
    """Received and refunded per (ledger, payment method): the payments register's booked
    payments, and each cash-mode GeldOntvangen (method not kept: "")."""
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])
    cash: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        if row.row.soort == CASH and row.row.account:
            cash[(row.booking_id, row.row.account)] += row.row.incl
    moves = [((p.ledger or "", p.method), p.amount) for p in payments]
    moves += [((ledger, ""), amount) for (_, ledger), amount in cash.items()]
    for key, amount in moves:
        entry = sums[key]
        entry[0 if amount >= 0 else 1] += abs(amount)
        entry[2] += 1
    return [
        PaymentLine(ledger, method, received - refunded, int(count), received, refunded)
        for (ledger, method), (received, refunded, count) in sorted(sums.items())
    ]


def doubles(rows: Iterable[PeriodRow]) -> list[Finding]:
    """Invoice numbers booked as more than one mutation of the same kind."""
    seen: dict[tuple[str, str], set[tuple[int, int | None]]] = defaultdict(set)
    for row in rows:
        seen[(row.row.invoice_number, row.row.soort)].add((row.booking_id, row.row.mutation_number))
    return [
        Finding(
            number,
            "",
            "dubbel geboekt",
            f"{len(found)} mutaties {soort}: "
            + ", ".join(str(m or "?") for _, m in sorted(found, key=str)),
        )
        for (number, soort), found in sorted(seen.items())
        if len(found) > 1
    ]
