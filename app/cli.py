"""``flask --app app <command>``: preview, book, shops add/list, reconcile.

Each command is a thin shell: parse arguments, call one service function, print JSON or
a short table, exit 0 on success, 1 on a failed operation, 2 on invalid input.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from app import shops
from app.core.mapping import Booking, map_order
from app.core.mapping_settings import MappingSettings, validate
from app.core.mutations import Mutation, Relation
from app.core.order_schema import parse_order
from app.errors import ConnectorError, MappingError, OrderDataError

shops_cli = AppGroup("shops", help="Register and list shops.")


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr, no traceback."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _load_json(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        fail(f"cannot read {what} {path}: {err.strerror}")
    except ValueError as err:
        fail(f"{what} {path} is not valid JSON: {err}")


def load_mapping(path: str | None) -> MappingSettings:
    if not path:
        return MappingSettings()
    data = _load_json(path, "mapping file")
    try:
        mapping = MappingSettings.from_json(data)
    except (KeyError, TypeError, ValueError) as err:
        fail(f"mapping file {path} is invalid: {err}")
    problems = validate(mapping)
    if problems:
        field, message = next(iter(problems.items()))
        fail(f"mapping file {path}: {field}: {message}")
    return mapping


def _wire(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items() if v is not None}
    return value


def preview_json(booking: Booking) -> dict[str, Any]:
    """The booking with e-Boekhouden's own field names; amounts as 2-decimal strings."""
    def mutation(m: Mutation) -> dict[str, Any]:
        wire = _wire(m.to_wire())
        for row in wire["MutatieRegels"]:  # a percentage, not an amount
            row["BTWPercentage"] = _percentage(row["BTWPercentage"])
        return dict(wire)

    def relation(r: Relation) -> dict[str, Any]:
        wire = _wire(r.to_wire(dt.date.today()))
        for key in ("ID", "AddDatum", "Gb_ID", "GeenEmail", "NieuwsbriefgroepenCount"):
            wire.pop(key, None)
        return dict(wire)

    return {"mutations": [mutation(m) for m in booking.mutations],
            "relation": relation(booking.relation)}


def _percentage(text: str) -> str:
    value = Decimal(text).normalize()
    return format(value, "f")


@click.command("preview")
@click.argument("order_file")
@click.option("--mapping", "mapping_file", help="Mapping settings JSON (default: the "
              "incumbent's defaults).")
def preview_command(order_file: str, mapping_file: str | None) -> None:
    """Print what ORDER_FILE (Mijnwebwinkel order JSON) would book, without booking."""
    mapping = load_mapping(mapping_file)
    try:
        order = parse_order(_load_json(order_file, "order file"))
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
@click.option("--shop", "shop_id", type=int, required=True)
@click.argument("order_number")
def book_command(shop_id: int, order_number: str) -> None:
    """Book one order now (synchronously) and print the outcome."""
    from app.pipeline import book_order

    services = current_app.extensions["services"]
    shop = services.load_shop(shop_id)
    if shop is None:
        fail(f"no shop with id {shop_id}")
    try:
        outcome = book_order(services, shop, order_number.strip())
    except ConnectorError as err:
        click.echo(json.dumps({"status": "retrying", "order_number": order_number,
                               "reason": err.explanation}, ensure_ascii=False, indent=2))
        sys.exit(1)
    click.echo(json.dumps(outcome.as_dict(), ensure_ascii=False, indent=2))
    sys.exit(0 if outcome.status in ("booked", "already_booked", "skipped") else 1)


@shops_cli.command("add")
@with_appcontext
@click.option("--name", required=True)
@click.option("--mww-token", required=True, help="Mijnwebwinkel API token of the shop.")
@click.option("--eb-username", required=True)
@click.option("--eb-code1", required=True)
@click.option("--eb-code2", required=True)
@click.option("--mapping", "mapping_file")
@click.option("--inactive", is_flag=True, help="Register as draft (not booking yet).")
def shops_add(name: str, mww_token: str, eb_username: str, eb_code1: str, eb_code2: str,
              mapping_file: str | None, inactive: bool) -> None:
    """Register a shop (credentials stored encrypted); prints its webhook URL and secret."""
    if len(eb_username.strip()) < 6:
        fail("the e-Boekhouden username must be at least 6 characters")
    mapping = load_mapping(mapping_file)
    services = current_app.extensions["services"]
    creds = shops.Credentials(mww_token.strip(), eb_username.strip(), eb_code1.strip(),
                              eb_code2.strip())
    with services.engine.begin() as conn:
        shop_id, secret = shops.register(
            conn, services.vault, name=name.strip(), credentials=creds, mapping=mapping,
            status=shops.DRAFT if inactive else shops.ACTIVE)
        shop = shops.load(conn, services.vault, shop_id)
    assert shop is not None
    click.echo(json.dumps({
        "id": shop_id, "name": shop.name, "status": shop.status,
        "webhook_url": shops.webhook_url(services.settings.public_base_url, shop.webhook_key),
        "webhook_secret": secret,
    }, indent=2))


@shops_cli.command("list")
@with_appcontext
def shops_list() -> None:
    """List shops (no secrets)."""
    from app import ledger

    services = current_app.extensions["services"]
    with services.engine.connect() as conn:
        rows = ledger.list_shops(conn)
    for row in rows:
        url = shops.webhook_url(services.settings.public_base_url, row.webhook_key)
        click.echo(f"{row.id}\t{row.status}\t{row.name}\t{url}")


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
@click.option("--shop", "shop_id", type=int, help="Only this shop (default: all active).")
@click.option("--since", help="Start of the window (ISO 8601). On a shop that was never "
              "reconciled, backfills by order date.")
@click.option("--until", help="End of the window (ISO 8601, default now).")
@click.option("--dry-run", is_flag=True, help="List what would be enqueued; change nothing.")
def reconcile_command(shop_id: int | None, since: str | None, until: str | None,
                      dry_run: bool) -> None:
    """Run one reconcile pass now and print its run record (JSON, one line per shop)."""
    # The reconciler package builds on app; importing it here, lazily, keeps app free of it
    # at import time.
    from app import ledger
    from reconciler.reconcile import BACKFILL, MANUAL, run_pass

    services = current_app.extensions["services"]
    start, end = _iso(since, "since"), _iso(until, "until")
    with services.engine.connect() as conn:
        rows = ([ledger.get_shop(conn, shop_id)] if shop_id is not None
                else ledger.list_shops(conn, [shops.ACTIVE, shops.AUTH_FAILED]))
    if not rows or rows[0] is None:
        fail(f"no shop with id {shop_id}" if shop_id is not None else "no active shops")
    failed = False
    for row in rows:
        assert row is not None
        shop = services.load_shop(row.id)
        mode = BACKFILL if start is not None and shop.watermark is None else MANUAL
        result = run_pass(services, shop, mode=mode, since=start, until=end, dry_run=dry_run)
        click.echo(json.dumps(result.as_dict(), default=str, ensure_ascii=False))
        failed |= result.outcome in ("failed", "locked")
    sys.exit(1 if failed else 0)


def init_app(app: Flask) -> None:
    app.cli.add_command(reconcile_command)
    app.cli.add_command(preview_command)
    app.cli.add_command(book_command)
    app.cli.add_command(shops_cli)
