"""PURE: rows → the Dutch VAT return's rubrieken, the opgaaf ICP and the OSS return.

Which BTW code lands in which rubriek, and why, is in docs/vat-return.md (with the
Belastingdienst's rubriek texts and e-Boekhouden's code descriptions as sources). In
short: 1a high rate, 1b low rate, 1c other rates (AFW_VERK), 1e reverse-charged within
the Netherlands (0 % for the seller), 3a export outside the EU, 3b deliveries and
services to EU businesses (ICP), 3c distance sales within the EU (AFST_VERK, and the
connector's OSS revenue rows whatever 0 % code they carry). The OSS VAT rows (the
destination's VAT on a balance-sheet ledger) are not turnover: they are the OSS return's
VAT. GEEN outside OSS is not in the return ("buiten de aangifte").

Input: the rows the connector booked, or e-Boekhouden's rows read back (``from_books``),
whose OSS country and rate come from the connector's row on the same ledger and code.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from app.core.mutations import BookedMutation
from app.report.books import Ours
from app.report.model import ZERO, Amounts, IcpLine, OssLine, VatReturn
from app.store.history_records import BookedRow, PeriodRow, RegisterEntry

RUBRIEK_BY_CODE = {
    "HOOG_VERK_21": "1a",
    "HOOG_VERK": "1a",
    "LAAG_VERK_9": "1b",
    "LAAG_VERK": "1b",
    "AFW_VERK": "1c",
    "VERL_VERK": "1e",
    "VERL_VERK_L9": "1e",
    "BU_EU_VERK": "3a",
    "BI_EU_VERK": "3b",
    "BI_EU_VERK_D": "3b",
    "AFST_VERK": "3c",
}
RUBRIEKEN = ("1a", "1b", "1c", "1e", "3a", "3b", "3c")
RUBRIEK_LABELS = {
    "1a": "Leveringen/diensten belast met hoog tarief",
    "1b": "Leveringen/diensten belast met laag tarief",
    "1c": "Leveringen/diensten belast met overige tarieven, behalve 0%",
    "1e": "Leveringen/diensten belast met 0% of niet bij u belast",
    "3a": "Leveringen naar landen buiten de EU (uitvoer)",
    "3b": "Leveringen naar of diensten in landen binnen de EU",
    "3c": "Installatie/afstandsverkopen binnen de EU",
}
ICP_GOODS, ICP_SERVICES = "BI_EU_VERK", "BI_EU_VERK_D"
PAYMENT = "FactuurbetalingOntvangen"  # money, not turnover


@dataclass(frozen=True, slots=True)
class TaxRow:
    code: str
    excl: Decimal
    vat: Decimal
    oss_country: str = ""
    oss_rate: Decimal | None = None
    oss_vat: bool = False
    vat_number: str = ""
    country: str = ""


def from_rows(rows: Iterable[PeriodRow]) -> list[TaxRow]:
    """The rows the connector booked (payments left out)."""
    return [
        TaxRow(
            r.row.btw_code.upper(),
            r.row.excl,
            r.row.vat,
            r.row.oss_country,
            r.row.oss_rate,
            r.row.oss_vat,
            r.vat_number,
            r.country,
        )
        for r in rows
        if r.row.soort != PAYMENT
    ]


def from_books(
    shop: Iterable[tuple[BookedMutation, Ours | None]],
    facts: dict[str, tuple[str, str]],
    register: dict[str, RegisterEntry],
) -> list[TaxRow]:
    """e-Boekhouden's rows of this shop's mutations (payments left out). ``facts``: per
    order number, (the buyer's VAT number, the destination country) as booked."""
    out = []
    for mutation, mine in shop:
        if mutation.soort == PAYMENT:
            continue
        entry = register.get(mutation.invoice_number.strip().casefold())
        order = mine.order_number if mine else (entry.order_number if entry else "")
        vat_number, country = facts.get(order, ("", ""))
        if entry is not None and not vat_number:
            vat_number, country = entry.vat_number, entry.country
        for line in mutation.lines:
            tag = _tag(mine.rows if mine else [], line.ledger, line.btw_code, line.incl)
            out.append(
                TaxRow(
                    line.btw_code.upper(),
                    line.excl,
                    line.vat,
                    tag.oss_country if tag else "",
                    tag.oss_rate if tag else None,
                    tag.oss_vat if tag else False,
                    vat_number,
                    country,
                )
            )
    return out


def _tag(rows: list[BookedRow], ledger: str, code: str, incl: Decimal) -> BookedRow | None:
    """Our row this book row is (same ledger and code; the same amount when it can)."""
    same = [r for r in rows if r.ledger == ledger and r.btw_code.upper() == code.upper()]
    exact = [r for r in same if r.incl == incl]
    found = exact or same
    return found[0] if found else None


def vat_return(rows: Iterable[TaxRow], source: str) -> VatReturn:
    sums: dict[str, list[Decimal]] = {key: [ZERO, ZERO] for key in RUBRIEKEN}
    outside = [ZERO, ZERO]
    icp: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])  # goods, services
    icp_country: dict[str, str] = {}
    oss: dict[tuple[str, Decimal], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for row in rows:
        if row.oss_country:
            entry = oss[(row.oss_country, row.oss_rate or ZERO)]
            if row.oss_vat:
                entry[1] += row.excl + row.vat  # the destination's VAT, booked at 0 %
                continue
            entry[0] += row.excl
            sums["3c"][0] += row.excl
            continue
        rubriek = RUBRIEK_BY_CODE.get(row.code)
        target = sums[rubriek] if rubriek else outside
        target[0] += row.excl
        target[1] += row.vat
        if row.code in (ICP_GOODS, ICP_SERVICES):
            number = row.vat_number or "onbekend"
            icp[number][0 if row.code == ICP_GOODS else 1] += row.excl
            icp_country.setdefault(number, row.vat_number[:2] or row.country)
    return VatReturn(
        rubrieken={key: Amounts(*values) for key, values in sums.items()},
        outside=Amounts(*outside),
        icp=[
            IcpLine(number, icp_country[number], goods + services, goods, services)
            for number, (goods, services) in sorted(icp.items())
        ],
        oss=[
            OssLine(country, rate, turnover, vat)
            for (country, rate), (turnover, vat) in sorted(oss.items())
        ],
        source=source,
    )
