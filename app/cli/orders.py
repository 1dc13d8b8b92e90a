"""``flask preview``, ``flask book`` and ``flask reconcile``: one order, or one pass."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from app.booking.reconcile import run_pass
from app.cli.common import (
    MAPPING_HELP,
    SHOP_HELP,
    SHOP_ID,
    fail,
    load_mapping,
    load_object,
    shop_or_fail,
)
from app.cli.progress import pass_progress
from app.core.mapping import Booking, map_order
from app.core.order_schema import parse_order
from app.core.preview import preview_json
from app.errors import ConnectorError, MappingError, OrderDataError
from app.states import BookingState, JobOutcome, RunMode, RunOutcome, ShopStatus


@click.command("preview")
@click.argument("order_file")
@click.option("--mapping", "mapping_file", help=MAPPING_HELP)
def preview_command(order_file: str, mapping_file: str | None) -> None:
    """Print what ORDER_FILE (an order as Mijnwebwinkel's API returns it, JSON) would book,
    without booking: the mutations and relation with e-Boekhouden's field names."""
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
@click.option("--shop", "shop_id", type=SHOP_ID, required=True, help=SHOP_HELP)
@click.option(
    "--failed",
    "all_failed",
    is_flag=True,
    help="Book every failed order of the shop again (instead of one ORDER_NUMBER).",
)
@click.argument("order_number", required=False)
def book_command(shop_id: int, all_failed: bool, order_number: str | None) -> None:
    """Book ORDER_NUMBER (the order number in Mijnwebwinkel) of the shop now,
    synchronously, and print the outcome (JSON). A failed order is tried again and the
    real reason printed; one placed before the shop's start date is booked too (you ask
    for it). With --failed: every failed order of the shop, one JSON line each."""
    services = current_app.extensions["services"]
    if all_failed == bool(order_number):
        fail("give one ORDER_NUMBER, or --failed (not both)")
    number = (order_number or "").strip()
    if not all_failed and (not number or len(number) > 50):
        fail("ORDER_NUMBER must be 1 to 50 characters")
    shop = shop_or_fail(services, shop_id)
    if not shop.status.books_orders:
        fail(f"shop {shop_id} is {shop.status}: it books nothing now", 1)
    if all_failed:
        if shop.status == ShopStatus.AUTH_FAILED:
            fail(
                f"the credentials of shop {shop_id} are refused: fix them with `flask shops "
                "set-credentials`; the orders they held are then booked by themselves",
                1,
            )
        numbers = [row.order_number for row in services.store.bookings.failed(shop.id)]
        outcomes = [_book_again(services, shop, n, indent=None) for n in numbers]
        click.echo(f"{len(numbers)} failed orders tried again", err=True)
        sys.exit(0 if all(outcomes) else 1)
    sys.exit(0 if _book_again(services, shop, number, indent=2) else 1)


def _book_again(services: Any, shop: Any, number: str, *, indent: int | None) -> bool:
    """Book one order now (a failed one first goes back to retrying); print the outcome.
    True when it is booked (or needs no booking)."""
    from app.booking.pipeline import book_order  # builds on services: imported when used

    row = services.store.bookings.get(shop.id, number)
    if row is not None and row.state == BookingState.FAILED:
        services.store.bookings.request_retry(shop.id, row.id)
    try:
        outcome = book_order(services, shop, number, on_request=True)
    except ConnectorError as err:
        data: dict[str, object] = {
            "status": JobOutcome.RETRYING,
            "order_number": number,
            "reason": err.explanation,
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=indent))
        return False
    click.echo(json.dumps(outcome.as_dict(), ensure_ascii=False, indent=indent))
    return outcome.status in (JobOutcome.BOOKED, JobOutcome.ALREADY_BOOKED, JobOutcome.SKIPPED)


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
@click.option("--shop", "shop_id", type=SHOP_ID, help=SHOP_HELP + " Default: every booking shop.")
@click.option(
    "--since",
    help="Start of the window (ISO 8601). On a shop that was never "
    "reconciled, backfills by order date. Orders placed before the shop's start date "
    "are booked too (you ask for them).",
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
        one = shop_or_fail(services, shop_id)
        if one.status in (ShopStatus.PAUSED, ShopStatus.REMOVED):
            fail(f"shop {shop_id} is {one.status}: it books nothing now", 1)
        shops = [one]
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
