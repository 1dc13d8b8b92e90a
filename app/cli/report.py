"""``flask --app app report --shop ID --period 2026-K3 [--format table|csv|xlsx|json]
[--list NAME] [--books/--no-books] [-o FILE]``: the period report, built here (a
terminal has no page timeout). ``--books`` (the default) reads e-Boekhouden back."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli.common import SHOP_HELP, SHOP_ID, shop_or_fail
from app.errors import ConnectorError
from app.report.build import build_report
from app.report.formats import csv_table, to_csv, to_csv_zip, to_json, to_table, to_xlsx
from app.report.period import PeriodError, parse_period
from app.report.runs import with_accords
from app.report.tables import TABLE_NAMES


@click.command("report")
@with_appcontext
@click.option("--shop", "shop_id", type=SHOP_ID, required=True, help=SHOP_HELP)
@click.option(
    "--period",
    "period_text",
    required=True,
    help="2026-K3 or 2026-Q3, 2026-10, 2026, or 2026-10-01..2026-10-15 (Dutch dates).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "xlsx", "json"]),
    default="table",
    show_default=True,
    help="table: for the terminal; csv (; and decimal commas) and xlsx: the Controle "
    "page's downloads; json: for programs.",
)
@click.option("--list", "list_name", help="csv: only this table (else a zip of them all).")
@click.option(
    "--books/--no-books",
    default=True,
    show_default=True,
    help="Read e-Boekhouden back (SOAP: costs GetMutaties calls of the month's 5,000).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file (required for xlsx and a csv zip on a terminal).",
)
def report_command(
    shop_id: int,
    period_text: str,
    fmt: str,
    list_name: str | None,
    books: bool,
    output: str | None,
) -> None:
    """The period's bookings, payments and VAT return, reconciled with the shop and the books."""
    try:
        period = parse_period(period_text)
    except PeriodError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    services = current_app.extensions["services"]
    shop = shop_or_fail(services, shop_id)
    if list_name and list_name not in TABLE_NAMES:
        choices = ", ".join(TABLE_NAMES)
        click.echo(f"error: no list {list_name!r}; choose from {choices}", err=True)
        sys.exit(2)
    try:
        report = with_accords(services, build_report(services, shop, period, books=books))
    except ConnectorError as err:
        click.echo(f"error: {err.explanation}", err=True)
        sys.exit(1)
    if fmt == "xlsx" or (fmt == "csv" and not list_name):
        data = to_xlsx(report) if fmt == "xlsx" else to_csv_zip(report)
        if output:
            Path(output).write_bytes(data)
        elif sys.stdout.isatty():
            click.echo(f"error: {fmt} is binary here: use --output FILE", err=True)
            sys.exit(2)
        else:
            sys.stdout.buffer.write(data)
        return
    if fmt == "csv":
        table = csv_table(report, list_name or "")
        assert table is not None  # checked above
        text = to_csv(table)
    else:
        text = {"table": to_table, "json": to_json}[fmt](report)
    if output:
        Path(output).write_text(text, encoding="utf-8", newline="")
    else:
        click.echo(text, nl=False)
