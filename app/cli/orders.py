"""``flask preview``, ``flask book`` and ``flask reconcile``: one order, or one pass."""

from __future__ import annotations

import datetime as dt
import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from app.booking.reconcile import run_pass
from app.cli.common import SHOP_ID, fail, load_mapping, load_object, shop_or_fail
from app.cli.progress import pass_progress
from app.core.mapping import Booking, map_order
from app.core.order_schema import parse_order
from app.core.preview import preview_json
from app.errors import ConnectorError, MappingError, OrderDataError
from app.states import JobOutcome, RunMode, RunOutcome


@click.command("preview")
@click.argument("order_file")
@click.option(
    "--mapping", "mapping_file", help="Mapping settings JSON (default: the incumbent's defaults)."
)
def preview_command(order_file: str, mapping_file: str | None) -> None:
    """Print what ORDER_FILE (Mijnwebwinkel order JSON) would book, without booking."""
    mapping = load_mapping(mapping_file)
    try:
        order = parse_order(load_object(order_file, "order file"))
    except OrderDataError as err:
        fail(str(err))
    try:
        decision = map_order(order, mapping)
    except MappingError as err:
        click.echo(json.dumps({"failed": str(err)}, ensure_ascii=False, indent=2))
        sys.exit(1)
    if isinstance(decision, Booking):
        click.echo(json.dumps(preview_json(decision), ensure_ascii=False, indent=2))
    else:
        click.echo(json.dumps({"skipped": decision.reason}, ensure_ascii=False, indent=2))


@click.command("book")
@with_appcontext
@click.option("--shop", "shop_id", type=SHOP_ID, required=True)
@click.argument("order_number")
def book_command(shop_id: int, order_number: str) -> None:
    """Book one order now (synchronously) and print the outcome."""
    from app.booking.pipeline import book_order  # builds on services: imported when used

    if not order_number.strip() or len(order_number.strip()) > 50:
        fail("ORDER_NUMBER must be 1 to 50 characters")
    services = current_app.extensions["services"]
    shop = shop_or_fail(services, shop_id)
    try:
        outcome = book_order(services, shop, order_number.strip())
    except ConnectorError as err:
        click.echo(
            json.dumps(
                {
                    "status": JobOutcome.RETRYING,
                    "order_number": order_number,
                    "reason": err.explanation,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        sys.exit(1)
    click.echo(json.dumps(outcome.as_dict(), ensure_ascii=False, indent=2))
    done = (JobOutcome.BOOKED, JobOutcome.ALREADY_BOOKED, JobOutcome.SKIPPED)
    sys.exit(0 if outcome.status in done else 1)


def _iso(value: str | None, name: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        fail(f"--{name} must be an ISO 8601 date or date-time, got {value!r}")
    if parsed.tzinfo is None:  # a person types shop-local time
        from zoneinfo import ZoneInfo

        parsed = parsed.replace(tzinfo=ZoneInfo("Europe/Amsterdam"))
    return parsed


@click.command("reconcile")
@with_appcontext
@click.option("--shop", "shop_id", type=SHOP_ID, help="Only this shop (default: all active).")
@click.option(
    "--since",
    help="Start of the window (ISO 8601). On a shop that was never "
    "reconciled, backfills by order date.",
)
@click.option("--until", help="End of the window (ISO 8601, default now).")
@click.option("--dry-run", is_flag=True, help="List what would be enqueued; change nothing.")
@click.option(
    "--progress/--no-progress",
    "show_progress",
    default=None,
    help="Progress bar on stderr (default: with --since on a terminal).",
)
@click.option(
    "--wait",
    type=int,
    default=0,
    metavar="SECONDS",
    help="Then follow the workers booking what was queued, up to SECONDS.",
)
def reconcile_command(
    shop_id: int | None,
    since: str | None,
    until: str | None,
    dry_run: bool,
    show_progress: bool | None,
    wait: int,
) -> None:
    """Run one reconcile pass now and print its run record (JSON, one line per shop)."""
    services = current_app.extensions["services"]
    start, end = _iso(since, "since"), _iso(until, "until")
    if start is not None and end is not None and end <= start:
        fail("--until must be later than --since")
    if shop_id is not None:
        shops = [shop_or_fail(services, shop_id)]
    else:
        shops = services.store.shops.booking()
        if not shops:
            fail("no active shops")
    failed = False
    for shop in shops:
        backfill = start is not None and shop.watermark is None
        enabled = (
            show_progress
            if show_progress is not None
            else (start is not None and sys.stderr.isatty())
        )
        with pass_progress(shop.name, enabled=enabled and not dry_run) as bar:
            result = run_pass(
                services,
                shop,
                mode=RunMode.BACKFILL if backfill else RunMode.MANUAL,
                since=start,
                until=end,
                dry_run=dry_run,
                progress=bar,
            )
            if bar is not None and wait > 0:
                bar.follow(services, shop.id, timeout=wait)
        click.echo(json.dumps(result.as_dict(), default=str, ensure_ascii=False))
        failed |= result.outcome in (RunOutcome.FAILED, RunOutcome.LOCKED)
    sys.exit(1 if failed else 0)
