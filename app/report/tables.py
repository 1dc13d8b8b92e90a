"""The report as tables: one per list, each a header and typed rows (``Decimal`` amounts,
``date`` dates, text). The CSV files (one per table) and the xlsx sheets (one per table)
are written from these, so every format carries the same lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.report.model import SECTIONS, Amounts, BookDiff, Finding, Report
from app.report.vat_return import RUBRIEK_LABELS, RUBRIEKEN

FINDINGS = (
    ("not_booked", "niet-geboekt", "Niet geboekt"),
    ("changed", "gewijzigd", "Gewijzigd na boeken"),
    ("doubles", "dubbel", "Dubbel geboekt"),
    ("not_in_shop", "niet-in-winkel", "Geboekt, niet in de winkel"),
)
BOOK_LISTS = (
    ("missing", "ontbreekt-in-boekhouding", "Ontbreekt in de boekhouding"),
    ("changed", "gewijzigd-in-boekhouding", "Gewijzigd in de boekhouding"),
    ("unknown", "onbekend-in-boekhouding", "Onbekend in de boekhouding"),
)
TABLE_NAMES = (
    "aansluiting",
    "betalingen",
    "open-posten",
    *(name for _, name, _ in FINDINGS),
    *(name for _, name, _ in BOOK_LISTS),
    "btw-aangifte",
    "opgaaf-icp",
    "oss",
)
LINES_HEADER = ("Onderdeel", "BTW-code", "Grootboek", "Aantal", "Excl. btw", "Btw", "Incl. btw")
FINDING_HEADER = (
    "Bestelling",
    "Datum",
    "Status winkel",
    "Status koppeling",
    "Reden",
    "Geboekt",
    "Nu",
)
BOOK_HEADER = (
    "Bestelling",
    "Factuurnummer",
    "Mutatie",
    "Datum",
    "Geboekt",
    "In de boekhouding",
    "Verschil",
    "Akkoord",
    "Notitie",
)


@dataclass(frozen=True, slots=True)
class Table:
    name: str  # file name (CSV) and the key of ``?lijst=``
    title: str  # sheet name (at most 31 characters)
    header: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    total_rows: frozenset[int] = frozenset()  # indexes of rows that are totals (bold)


def safe(text: str) -> str:
    """Text a spreadsheet must not run as a formula (a status name from the shop, say)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def tables(report: Report) -> list[Table]:
    out = [_lines(report), _payments(report), _open_items(report)]
    for key, name, title in FINDINGS:
        out.append(Table(name, title, FINDING_HEADER, [_finding(f) for f in getattr(report, key)]))
    for key, name, title in BOOK_LISTS:
        diffs = report.books.lists()[key]
        out.append(Table(name, title, BOOK_HEADER, [_diff(d) for d in diffs]))
    out += [_vat_return(report), _icp(report), _oss(report)]
    return out


def _lines(report: Report) -> Table:
    rows: list[tuple[Any, ...]] = []
    totals = set()
    for section in SECTIONS:
        for x in report.section_lines(section):
            rows.append(
                (section, safe(x.btw_code), safe(x.ledger), x.orders, x.excl, x.vat, x.incl)
            )
        t = report.total(section)
        totals.add(len(rows))
        rows.append((t.label, "", "", t.orders, t.excl, t.vat, t.incl))
    return Table("aansluiting", "Aansluiting", LINES_HEADER, rows, frozenset(totals))


def _payments(report: Report) -> Table:
    rows: list[tuple[Any, ...]] = [
        (
            safe(p.ledger),
            safe(p.method) or "(kasboeking)",
            p.count,
            p.received,
            p.refunded,
            p.amount,
        )
        for p in report.payments
    ]
    count = sum(p.count for p in report.payments)
    net = report.received - report.refunded
    rows.append(("Totaal", "", count, report.received, report.refunded, net))
    header = ("Grootboek", "Betaalmethode", "Aantal", "Ontvangen", "Terugbetaald", "Saldo")
    return Table(
        "betalingen", "Betalingen", header, rows, frozenset({len(rows) - 2, len(rows) - 1})
    )


def _open_items(report: Report) -> Table:
    header = ("Soort", "Bestelling", "Factuurnummer", "Datum", "Vervaldatum", "Bedrag", "Reden")
    rows: list[tuple[Any, ...]] = [
        (i.kind, safe(i.order_number), safe(i.invoice_number), i.date, i.due, i.amount, i.reason)
        for i in report.open_items
    ]
    return Table("open-posten", "Open posten", header, rows)


def _finding(f: Finding) -> tuple[Any, ...]:
    return (safe(f.number), f.date, safe(f.status), f.state, safe(f.reason), f.booked, f.current)


def _diff(d: BookDiff) -> tuple[Any, ...]:
    accord = d.accord
    return (
        safe(d.order_number),
        safe(d.invoice_number),
        d.mutation_number,
        d.date,
        d.booked,
        d.in_books,
        safe(d.reason),
        ("ja" if not d.open else "verouderd") if accord else "",
        safe(accord.note) if accord else "",
    )


def _vat_return(report: Report) -> Table:
    vat = report.vat_return
    rows: list[tuple[Any, ...]] = []
    for key in RUBRIEKEN:
        amounts = vat.rubrieken.get(key, Amounts())
        rows.append((key, RUBRIEK_LABELS[key], amounts.turnover, amounts.vat))
    rows.append(("", "Niet in de aangifte (BTW-code GEEN)", vat.outside.turnover, vat.outside.vat))
    header = ("Rubriek", "Omschrijving", "Omzet", "Btw")
    return Table("btw-aangifte", "Btw-aangifte", header, rows)


def _icp(report: Report) -> Table:
    header = ("Btw-nummer", "Land", "Leveringen", "Diensten", "Totaal")
    rows: list[tuple[Any, ...]] = [
        (safe(i.vat_number), i.country, i.goods, i.services, i.amount)
        for i in report.vat_return.icp
    ]
    return Table("opgaaf-icp", "Opgaaf ICP", header, rows)


def _oss(report: Report) -> Table:
    header = ("Land", "Tarief (%)", "Omzet", "Btw")
    rows: list[tuple[Any, ...]] = [
        (o.country, o.rate, o.turnover, o.vat) for o in report.vat_return.oss
    ]
    return Table("oss", "OSS", header, rows)
