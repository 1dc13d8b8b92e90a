"""The report as text (terminal), CSV (one table per file, ``;`` and decimal commas as
Dutch spreadsheets expect; several files in a zip), xlsx (a sheet per list: typed dates
and amounts, column widths, a frozen header and an autofilter) and JSON
(docs/report-json.md). Every format carries the same lists (``tables``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from decimal import Decimal
from typing import Any

from app.report.model import Report
from app.report.serial import to_dict
from app.report.tables import LINES_HEADER, Table, tables

DATE_FORMAT, DATETIME_FORMAT, MONEY_FORMAT = "DD-MM-YYYY", "DD-MM-YYYY HH:MM", "#,##0.00"
MAX_WIDTH = 60


def nl(value: Decimal | None) -> str:
    """1234.5 → "1234,50" (no thousands separator: spreadsheets read it as a number)."""
    return "" if value is None else f"{value:.2f}".replace(".", ",")


def cell_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return nl(value)
    if isinstance(value, dt.date):
        return value.strftime("%d-%m-%Y")
    return "" if value is None else str(value)


def to_json(report: Report) -> str:
    return json.dumps(to_dict(report), ensure_ascii=False, indent=2)


def file_stem(report: Report) -> str:
    return f"aansluiting-{report.shop_id}-{report.period.key.replace('..', '_')}"


def to_csv(table: Table) -> str:
    """One table: a header row and its rows (BOM-less; the web adds one for Excel)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(table.header)
    for row in table.rows:
        writer.writerow([cell_text(v) for v in row])
    return buffer.getvalue()


def csv_table(report: Report, name: str) -> Table | None:
    return next((t for t in tables(report) if t.name == name), None)


def to_csv_zip(report: Report) -> bytes:
    """Every table as its own CSV file (with a BOM, so Excel reads é and €), in a zip."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in tables(report):
            archive.writestr(f"{table.name}.csv", ("\ufeff" + to_csv(table)).encode("utf-8"))
    return out.getvalue()


def to_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Overzicht"
    facts: list[tuple[str, Any]] = [
        ("Winkel", report.shop_name),
        ("Periode", report.period.label),
        ("Begin", report.period.start),
        ("Einde", report.period.end),
        ("Berekend op", report.built_at.replace(tzinfo=None) if report.built_at else None),
        ("Bestellingen in de winkel", report.shop_orders),
        ("Alles sluit aan", "ja" if report.in_order else "nee"),
        ("e-Boekhouden uitgelezen", "ja" if report.books.checked else "nee"),
        ("Aanroepen e-Boekhouden", report.books.calls),
    ]
    summary.append(["Gegeven", "Waarde"])
    for fact in facts:
        summary.append(list(fact))
    _finish(summary, 2, get_column_letter, Font)
    for table in tables(report):
        sheet = book.create_sheet(table.title[:31])
        sheet.append(list(table.header))
        for row in table.rows:
            sheet.append(list(row))
        for index in table.total_rows:
            for cell in sheet[index + 2]:
                cell.font = Font(bold=True)
        _finish(sheet, len(table.header), get_column_letter, Font)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _finish(sheet: Any, columns: int, letter: Any, font: Any) -> None:
    """Typed cells their format, a bold frozen header, an autofilter, column widths."""
    for cell in sheet[1]:
        cell.font = font(bold=True)
    widths = [len(str(c.value or "")) for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, Decimal):
                cell.number_format = MONEY_FORMAT
            elif isinstance(cell.value, dt.datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(cell.value, dt.date):
                cell.number_format = DATE_FORMAT
            length = len(cell_text(cell.value))
            widths[cell.column - 1] = max(widths[cell.column - 1], length)
    for index, width in enumerate(widths[:columns], start=1):
        sheet.column_dimensions[letter(index)].width = min(MAX_WIDTH, width + 2)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{letter(columns)}{max(1, sheet.max_row)}"


def to_table(report: Report) -> str:
    """Plain text for a terminal."""
    widths = (18, 10, 10, 7, 13, 12, 13)
    lines = [
        f"Aansluiting {report.shop_name} — {report.period.label} "
        f"({report.period.start} t/m {report.period.end})",
        "",
    ]

    def fmt(row: tuple[Any, ...]) -> str:
        cells = [cell_text(v) for v in row]
        return "  ".join(
            c.ljust(w) if i < 3 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    all_tables = tables(report)
    lines.append(fmt(LINES_HEADER))
    lines += [fmt(row) for row in all_tables[0].rows]
    lines += ["", f"Bestellingen in de winkel in deze periode: {report.shop_orders}"]
    if report.books.skipped_reason:
        lines.append(report.books.skipped_reason)
    for table in all_tables[1:]:
        lines += ["", f"{table.title}: {len(table.rows)}"]
        lines += ["  " + "  ".join(cell_text(v) for v in row) for row in table.rows]
    return "\n".join(lines) + "\n"
