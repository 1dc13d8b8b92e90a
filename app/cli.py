"""``flask --app app <command>``: preview, book, shops add/list, reconcile, keys rotate.

Each command is a thin shell: parse arguments, call one service function, print JSON or
a short table, exit 0 on success, 1 on a failed operation, 2 on invalid input.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from app.connections import verify_connections
from app.core.mapping import Booking, map_order
from app.core.mapping_settings import MappingSettings, check_invoice_format, validate
from app.core.order_schema import parse_order
from app.core.preview import preview_json
from app.errors import ConfigError, ConnectorError, MappingError, OrderDataError
from app.reconcile import run_pass
from app.states import RunMode, RunOutcome, ShopStatus
from app.store.shops import MIN_EB_USERNAME as MIN_USERNAME
from app.store.shops import Credentials, webhook_url
from app.terminal import pass_progress

shops_cli = AppGroup("shops", help="Register and list shops.")
keys_cli = AppGroup("keys", help="The encryption keys of stored secrets.")
SHOP_ID = click.IntRange(1, 2**31 - 1)  # the tables' integer ids


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


def _load_object(path: str, what: str) -> dict[str, Any]:
    data = _load_json(path, what)
    if not isinstance(data, dict):
        fail(f"{what} {path} must hold a JSON object, not a {type(data).__name__}")
    return data


def load_mapping(path: str | None) -> MappingSettings:
    if not path:
        return MappingSettings()
    data = _load_object(path, "mapping file")
    try:
        mapping = MappingSettings.from_json(data)
    except (KeyError, TypeError, ValueError) as err:
        fail(f"mapping file {path} is invalid: {err}")
    problems = validate(mapping)
    if problems:
        field, message = next(iter(problems.items()))
        fail(f"mapping file {path}: {field}: {message}")
    return mapping


@click.command("preview")
@click.argument("order_file")
@click.option(
    "--mapping", "mapping_file", help="Mapping settings JSON (default: the incumbent's defaults)."
)
def preview_command(order_file: str, mapping_file: str | None) -> None:
    """Print what ORDER_FILE (Mijnwebwinkel order JSON) would book, without booking."""
    mapping = load_mapping(mapping_file)
    try:
        order = parse_order(_load_object(order_file, "order file"))
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
    from app.pipeline import book_order  # builds on services: imported when used

    if not order_number.strip() or len(order_number.strip()) > 50:
        fail("ORDER_NUMBER must be 1 to 50 characters")
    services = current_app.extensions["services"]
    shop = services.load_shop(shop_id)
    if shop is None:
        fail(f"no shop with id {shop_id}")
    try:
        outcome = book_order(services, shop, order_number.strip())
    except ConnectorError as err:
        click.echo(
            json.dumps(
                {"status": "retrying", "order_number": order_number, "reason": err.explanation},
                ensure_ascii=False,
                indent=2,
            )
        )
        sys.exit(1)
    click.echo(json.dumps(outcome.as_dict(), ensure_ascii=False, indent=2))
    sys.exit(0 if outcome.status in ("booked", "already_booked", "skipped") else 1)


@shops_cli.command("add")
@with_appcontext
@click.option("--name", required=True)
@click.option("--mww-token", required=True, help="Mijnwebwinkel API token of the shop.")
@click.option(
    "--eb-api-token",
    default="",
    help="e-Boekhouden API token: books through the REST API (recommended).",
)
@click.option("--eb-username", default="", help="SOAP username (without --eb-api-token).")
@click.option("--eb-code1", default="", help="SOAP security code 1.")
@click.option("--eb-code2", default="", help="SOAP security code 2.")
@click.option("--mapping", "mapping_file")
@click.option("--owner", "owner_email", help="E-mail of the user who owns the shop.")
@click.option("--inactive", is_flag=True, help="Register as draft (not booking yet).")
@click.option(
    "--invoice-format",
    help="Factuurnummer of its bookings, e.g. 'W1-{number}' "
    "(default: the bare order number). Give each shop on one e-Boekhouden "
    "administration its own.",
)
def shops_add(
    name: str,
    mww_token: str,
    eb_api_token: str,
    eb_username: str,
    eb_code1: str,
    eb_code2: str,
    mapping_file: str | None,
    owner_email: str | None,
    inactive: bool,
    invoice_format: str | None,
) -> None:
    """Register a shop after testing both connections live (credentials stored
    encrypted); prints its webhook URL and secret. e-Boekhouden: --eb-api-token (REST),
    or --eb-username with --eb-code1 and --eb-code2 (SOAP)."""
    values = {
        "--name": name,
        "--mww-token": mww_token,
        "--eb-username": eb_username,
        "--eb-code1": eb_code1,
        "--eb-code2": eb_code2,
    }
    values = {option: value.strip() for option, value in values.items()}
    token = eb_api_token.strip()
    soap_options = ("--eb-username", "--eb-code1", "--eb-code2")
    if not token and not any(values[o] for o in soap_options):
        fail("give --eb-api-token, or --eb-username, --eb-code1 and --eb-code2")
    required = ("--name", "--mww-token") if token else tuple(values)
    empty = [option for option in required if not values[option]]
    if empty:
        fail("empty " + ", ".join(empty))
    if len(values["--name"]) > 200:
        fail("--name may be at most 200 characters")
    if not token and len(values["--eb-username"]) < MIN_USERNAME:
        fail(f"the e-Boekhouden username must be at least {MIN_USERNAME} characters")
    mapping = load_mapping(mapping_file)
    if invoice_format is not None:
        problem = check_invoice_format(invoice_format.strip())
        if problem:
            fail(f"--invoice-format: {problem}")
        mapping = replace(mapping, invoice_format=invoice_format.strip())
    services = current_app.extensions["services"]
    owner = None
    if owner_email:
        owner = services.store.users.get_by_email(owner_email)
        if owner is None:
            fail(f"no user {owner_email.strip().lower()[:60]}", 1)
    creds = Credentials(
        values["--mww-token"],
        values["--eb-username"],
        values["--eb-code1"],
        values["--eb-code2"],
        token,
    )
    problems = verify_connections(services, creds)
    if problems:  # the systems' own (Dutch) explanations
        fail("; ".join(f"{system}: {text}" for system, text in problems.items()), 1)
    shop_id, secret = services.store.shops.register(
        name=values["--name"],
        credentials=creds,
        mapping=mapping,
        status=ShopStatus.DRAFT if inactive else ShopStatus.ACTIVE,
        owner_id=owner.id if owner else None,
    )
    shop = services.load_shop(shop_id)
    assert shop is not None
    click.echo(
        json.dumps(
            {
                "id": shop_id,
                "name": shop.name,
                "status": str(shop.status),
                "invoice_format": shop.mapping.invoice_format,
                "webhook_url": webhook_url(services.settings.public_base_url, shop.webhook_key),
                "webhook_secret": secret,
            },
            indent=2,
        )
    )


@shops_cli.command("list")
@with_appcontext
def shops_list() -> None:
    """List shops (no secrets)."""
    services = current_app.extensions["services"]
    for shop in services.store.shops.all():
        url = webhook_url(services.settings.public_base_url, shop.webhook_key)
        click.echo(f"{shop.id}\t{shop.status}\t{shop.name}\t{url}")


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
        one = services.load_shop(shop_id)
        if one is None:
            fail(f"no shop with id {shop_id}")
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


@keys_cli.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Re-encrypt every stored secret with the newest ENCRYPTION_KEY (the first listed).
    Safe to repeat; afterwards the older keys can be removed from ENCRYPTION_KEY."""
    services = current_app.extensions["services"]
    try:
        changed, current = services.store.shops.reencrypt_all()
    except ConfigError as err:
        fail(f"{err}; keep the old key in ENCRYPTION_KEY until this command succeeds", 1)
    services.webhook_shops.forget()
    click.echo(json.dumps({"reencrypted": changed, "already_current": current}))


def init_app(app: Flask) -> None:
    from app.report.cli import report_command

    app.cli.add_command(report_command)
    app.cli.add_command(reconcile_command)
    app.cli.add_command(preview_command)
    app.cli.add_command(book_command)
    app.cli.add_command(shops_cli)
    app.cli.add_command(keys_cli)
