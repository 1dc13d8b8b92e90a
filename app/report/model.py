"""What the period report holds (plain data; ``build`` fills it, ``formats`` writes it).

Sections of the booked lines: verkopen, creditnota's, betalingen (the payments register,
and in cash mode the money of each GeldOntvangen) and oss-btw (the destination country's
VAT that OSS orders carry: a balance-sheet amount, never turnover).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from app.report.period import Period

ZERO = Decimal("0.00")
SALES, CREDITS, PAYMENTS, OSS_VAT = "verkopen", "creditnota's", "betalingen", "oss-btw"
SECTIONS = (SALES, CREDITS, PAYMENTS, OSS_VAT)
MISSING, CHANGED, UNKNOWN = "missing", "changed", "unknown"  # the books' lists


@dataclass(frozen=True, slots=True)
class Line:
    """Booked amounts of one section for one (BTW code, ledger). ``orders`` counts each
    order once per section, on the line that carries most of its amount (so the lines
    add up to the section's total); in the payments section it counts payments."""

    section: str
    btw_code: str
    ledger: str
    orders: int
    excl: Decimal
    vat: Decimal
    incl: Decimal


@dataclass(frozen=True, slots=True)
class Total:
    label: str
    orders: int
    excl: Decimal
    vat: Decimal
    incl: Decimal


@dataclass(frozen=True, slots=True)
class Finding:
    """One order the bookkeeper should look at (the shop against the connector)."""

    number: str
    status: str  # the shop's status name
    state: str  # ours: "nog niet verwerkt", "mislukt", …
    reason: str
    booked: Decimal | None = None
    current: Decimal | None = None
    needs_action: bool = True  # False: rightly not booked (a status that is not booked)
    date: dt.date | None = None  # order date (cash mode: the day it was booked)


@dataclass(frozen=True, slots=True)
class PaymentLine:
    """Money booked in the period on one ledger by one payment method."""

    ledger: str
    method: str  # "" for a cash-mode GeldOntvangen (its method is not kept)
    amount: Decimal  # received minus refunded
    count: int
    received: Decimal = ZERO
    refunded: Decimal = ZERO  # a positive amount


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An invoice unpaid past its term, or a payment held back or refused."""

    kind: str  # "onbetaald" | "niet meer gevolgd" | "vastgehouden" | "niet geboekt"
    order_number: str
    invoice_number: str
    date: dt.date  # the invoice date, or the payment's
    amount: Decimal
    reason: str
    due: dt.date | None = None


@dataclass(frozen=True, slots=True)
class BookDiff:
    """A difference between the connector's bookings and e-Boekhouden's books."""

    kind: str  # MISSING | CHANGED | UNKNOWN
    order_number: str
    invoice_number: str
    mutation_number: int
    booked: Decimal | None
    in_books: Decimal | None
    reason: str
    date: dt.date | None = None
    accord: Accord | None = None  # the bookkeeper's "akkoord", when given

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.kind, self.invoice_number, self.mutation_number)

    @property
    def open(self) -> bool:
        return self.accord is None or self.accord.difference != self.reason


@dataclass(frozen=True, slots=True)
class Accord:
    note: str
    by: str
    at: dt.datetime
    difference: str  # the reason as it was when accepted: a new difference reopens it


@dataclass
class Books:
    """e-Boekhouden read back for the period."""

    checked: bool = False
    calls: int = 0
    read: int = 0  # mutations read
    api: str = ""  # "soap" | "rest"
    budget_left: int | None = None  # SOAP: GetMutaties calls left this month
    skipped_reason: str = ""  # why the books were not read (Dutch)
    missing: list[BookDiff] = field(default_factory=list)
    changed: list[BookDiff] = field(default_factory=list)
    unknown: list[BookDiff] = field(default_factory=list)

    def lists(self) -> dict[str, list[BookDiff]]:
        return {MISSING: self.missing, CHANGED: self.changed, UNKNOWN: self.unknown}

    @property
    def open_count(self) -> int:
        return sum(1 for diffs in self.lists().values() for d in diffs if d.open)


@dataclass(frozen=True, slots=True)
class Amounts:
    turnover: Decimal = ZERO
    vat: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class IcpLine:
    vat_number: str
    country: str
    amount: Decimal  # goods and services together
    goods: Decimal = ZERO
    services: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class OssLine:
    country: str
    rate: Decimal
    turnover: Decimal
    vat: Decimal


@dataclass
class VatReturn:
    """The Dutch return's rubrieken, the opgaaf ICP and the OSS return (docs/vat-return.md
    says which BTW code goes where, and why). ``source``: "boeken" (e-Boekhouden read
    back) or "koppeling" (the rows the connector booked)."""

    rubrieken: dict[str, Amounts] = field(default_factory=dict)
    outside: Amounts = field(default_factory=Amounts)  # code GEEN, not OSS
    icp: list[IcpLine] = field(default_factory=list)
    oss: list[OssLine] = field(default_factory=list)
    source: str = "koppeling"


@dataclass
class Month:
    """Per calendar month of the period: the charts' figures."""

    year: int
    month: int
    shop: Decimal = ZERO  # the shop's orders (incl. VAT)
    booked: Decimal = ZERO  # what the connector booked (invoices, incl. VAT)
    books: Decimal | None = None  # what e-Boekhouden holds of this shop (when read)


@dataclass
class Report:
    shop_id: int
    shop_name: str
    period: Period
    lines: list[Line] = field(default_factory=list)
    shop_orders: int = 0  # orders in the shop's listing (test orders excluded)
    not_booked: list[Finding] = field(default_factory=list)
    changed: list[Finding] = field(default_factory=list)
    doubles: list[Finding] = field(default_factory=list)
    not_in_shop: list[Finding] = field(default_factory=list)
    payments: list[PaymentLine] = field(default_factory=list)
    open_items: list[OpenItem] = field(default_factory=list)
    books: Books = field(default_factory=Books)
    vat_return: VatReturn = field(default_factory=VatReturn)
    months: list[Month] = field(default_factory=list)
    mode: str = ""  # the shop's booking mode when built
    built_at: dt.datetime | None = None

    def section_lines(self, section: str) -> list[Line]:
        return [line for line in self.lines if line.section == section]

    def total(self, section: str) -> Total:
        return _total(f"Totaal {section}", self.section_lines(section))

    def by_vat_code(self, section: str) -> dict[str, Total]:
        """Per BTW code (all ledgers together)."""
        grouped: dict[str, list[Line]] = defaultdict(list)
        for line in self.section_lines(section):
            grouped[line.btw_code].append(line)
        return {code: _total(code, lines) for code, lines in sorted(grouped.items())}

    @property
    def received(self) -> Decimal:
        return sum((p.received for p in self.payments), ZERO)

    @property
    def refunded(self) -> Decimal:
        return sum((p.refunded for p in self.payments), ZERO)

    @property
    def in_order(self) -> bool:
        return not (
            any(f.needs_action for f in self.not_booked)
            or self.changed
            or self.doubles
            or self.not_in_shop
            or self.books.open_count
        )


def _total(label: str, lines: list[Line]) -> Total:
    return Total(
        label,
        sum(x.orders for x in lines),
        sum((x.excl for x in lines), ZERO),
        sum((x.vat for x in lines), ZERO),
        sum((x.incl for x in lines), ZERO),
    )
