"""``flask --app app report --shop ID --period 2026-Q3 [--format table|csv|xlsx|json]``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli.common import SHOP_HELP, SHOP_ID, no_shop
from app.errors import ConnectorError
from app.report.build import build_report
from app.report.formats import to_csv, to_json, to_table, to_xlsx
from app.report.period import PeriodError, parse_period


@click.command("report")
@with_appcontext
@click.option("--shop", "shop_id", type=SHOP_ID, required=True, help=SHOP_HELP)
@click.option(
    "--period",
    "period_text",
    required=True,
    help="2026-Q3, 2026-10 or 2026-10-01..2026-10-15 (Europe/Amsterdam dates).",
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
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file (required for xlsx on a terminal).",
)
def report_command(shop_id: int, period_text: str, fmt: str, output: str | None) -> None:
    """The period's bookings per VAT code and ledger, reconciled with the shop's orders."""
    try:
        period = parse_period(period_text)
    except PeriodError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    services = current_app.extensions["services"]
    shop = services.load_shop(shop_id)
    if shop is None:
        no_shop(shop_id)
    try:
        report = build_report(services, shop, period)
    except ConnectorError as err:
        click.echo(f"error: {err.explanation}", err=True)
        sys.exit(1)
    if fmt == "xlsx":
        data = to_xlsx(report)
        if output:
            Path(output).write_bytes(data)
        elif sys.stdout.isatty():
            click.echo("error: xlsx is binary: use --output FILE", err=True)
            sys.exit(2)
        else:
            sys.stdout.buffer.write(data)
        return
    text = {"table": to_table, "csv": to_csv, "json": to_json}[fmt](report)
    if output:
        Path(output).write_text(text, encoding="utf-8", newline="")
    else:
        click.echo(text, nl=False)
