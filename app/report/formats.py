"""The report as text (terminal), CSV (``;`` and decimal commas, as Dutch spreadsheets
expect), xlsx (openpyxl) and JSON. Every format carries the same lines and totals."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

from app.report.build import SECTIONS, Finding, Report

HEADER = ("Onderdeel", "BTW-code", "Grootboek", "Aantal", "Excl. btw", "Btw", "Incl. btw")
FINDINGS = (
    ("not_booked", "Niet geboekt"),
    ("changed", "Gewijzigd na boeken"),
    ("doubles", "Dubbel geboekt"),
    ("not_in_shop", "Geboekt, niet in de winkel"),
)
FINDING_HEADER = ("Bestelling", "Status winkel", "Status koppeling", "Reden", "Geboekt", "Nu")


def nl(value: Decimal | None) -> str:
    """1234.5 → "1234,50" (no thousands separator: spreadsheets read it as a number)."""
    return "" if value is None else f"{value:.2f}".replace(".", ",")


def table_rows(report: Report) -> list[tuple[Any, ...]]:
    """Lines then a total per section, as (section, code, ledger, n, excl, vat, incl)."""
    out: list[tuple[Any, ...]] = []
    for section in SECTIONS:
        for line in report.section_lines(section):
            out.append(
                (
                    section,
                    safe(line.btw_code),
                    safe(line.ledger),
                    line.orders,
                    line.excl,
                    line.vat,
                    line.incl,
                )
            )
        total = report.total(section)
        out.append((total.label, "", "", total.orders, total.excl, total.vat, total.incl))
    return out


def safe(text: str) -> str:
    """Text a spreadsheet must not run as a formula (a status name from the shop, say)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _finding_row(f: Finding) -> tuple[Any, ...]:
    return (safe(f.number), safe(f.status), f.state, safe(f.reason), f.booked, f.current)


def to_json(report: Report) -> str:
    def money(value: Decimal | None) -> str | None:
        return None if value is None else f"{value:.2f}"

    data: dict[str, Any] = {
        "shop_id": report.shop_id,
        "shop": report.shop_name,
        "period": {
            "key": report.period.key,
            "start": report.period.start.isoformat(),
            "end": report.period.end.isoformat(),
        },
        "lines": [
            {
                "section": x.section,
                "btw_code": x.btw_code,
                "ledger": x.ledger,
                "orders": x.orders,
                "excl": money(x.excl),
                "vat": money(x.vat),
                "incl": money(x.incl),
            }
            for x in report.lines
        ],
        "totals": {
            s: {
                "orders": t.orders,
                "excl": money(t.excl),
                "vat": money(t.vat),
                "incl": money(t.incl),
            }
            for s in SECTIONS
            for t in [report.total(s)]
        },
        "by_vat_code": {
            s: {
                code: {"excl": money(t.excl), "vat": money(t.vat), "incl": money(t.incl)}
                for code, t in report.by_vat_code(s).items()
            }
            for s in SECTIONS
        },
        "shop_orders": report.shop_orders,
    }
    for key, _ in FINDINGS:
        data[key] = [
            {
                "number": f.number,
                "status": f.status,
                "state": f.state,
                "reason": f.reason,
                "booked": money(f.booked),
                "current": money(f.current),
            }
            for f in getattr(report, key)
        ]
    return json.dumps(data, ensure_ascii=False, indent=2)


def to_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([f"Aansluiting {report.shop_name}", report.period.label])
    writer.writerow(HEADER)
    for row in table_rows(report):
        writer.writerow([*row[:4], *(nl(v) for v in row[4:])])
    for key, title in FINDINGS:
        findings = getattr(report, key)
        writer.writerow([])
        writer.writerow([f"{title} ({len(findings)})"])
        if findings:
            writer.writerow(FINDING_HEADER)
        for f in findings:
            row = _finding_row(f)
            writer.writerow([*row[:4], nl(row[4]), nl(row[5])])
    return buffer.getvalue()


def to_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Aansluiting"
    sheet.append([f"Aansluiting {report.shop_name}", report.period.label])
    sheet.append(list(HEADER))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in table_rows(report):
        sheet.append(list(row))
        if str(row[0]).startswith("Totaal"):
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
    for column in "EFG":
        for cell in sheet[column]:
            if isinstance(cell.value, Decimal):
                cell.number_format = "#,##0.00"
    for key, title in FINDINGS:
        findings = getattr(report, key)
        extra = book.create_sheet(title[:31])
        extra.append(list(FINDING_HEADER))
        for f in findings:
            extra.append(list(_finding_row(f)))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_table(report: Report) -> str:
    """Plain text for a terminal."""
    widths = (18, 10, 10, 7, 13, 12, 13)
    lines = [
        f"Aansluiting {report.shop_name} — {report.period.label} "
        f"({report.period.start} t/m {report.period.end})",
        "",
    ]

    def fmt(row: tuple[Any, ...]) -> str:
        cells = [str(v) if not isinstance(v, Decimal) else nl(v) for v in row]
        return "  ".join(
            c.ljust(w) if i < 3 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    lines.append(fmt(HEADER))
    for row in table_rows(report):
        lines.append(fmt(row))
    lines.append("")
    lines.append(f"Bestellingen in de winkel in deze periode: {report.shop_orders}")
    for key, title in FINDINGS:
        findings = getattr(report, key)
        lines.append(f"{title}: {len(findings)}")
        for f in findings:
            amounts = ""
            if f.booked is not None or f.current is not None:
                amounts = f" (geboekt {nl(f.booked) or '—'}, nu {nl(f.current) or '—'})"
            lines.append(f"  {f.number}  {f.status}  {f.state}: {f.reason}{amounts}")
    return "\n".join(lines) + "\n"
