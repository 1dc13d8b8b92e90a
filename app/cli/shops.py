"""``flask shops add|list``: register a shop after testing both connections, list them."""

from __future__ import annotations

import json
from dataclasses import replace

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from app.booking.connections import verify_connections
from app.booking.names import MAX_NAME, name_problem, one_line
from app.cli.common import fail, load_mapping
from app.core.mapping_settings import check_invoice_format
from app.states import ShopStatus
from app.store.shops import MIN_EB_USERNAME as MIN_USERNAME
from app.store.shops import SECRETS, Credentials, webhook_url

shops_cli = AppGroup("shops", help="Register and list shops.")


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
    if len(values["--name"]) > MAX_NAME:
        fail(f"--name may be at most {MAX_NAME} characters")
    if name_problem(values["--name"]):
        fail("--name may not hold line breaks, tabs or other control characters")
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
    """List shops (no secrets). A shop whose stored row cannot be read is listed as
    UNREADABLE (it is skipped by the clock, the passes and the digest); the reason and
    what to do go to stderr."""
    services = current_app.extensions["services"]
    found, unreadable = services.store.shops.scan()
    rows = [(s.id, str(s.status), s.name, s.webhook_key) for s in found]
    rows += [(s.id, f"UNREADABLE ({s.problem})", s.name, s.webhook_key) for s in unreadable]
    for shop_id, status, name, key in sorted(rows):
        url = webhook_url(services.settings.public_base_url, key)
        click.echo(f"{shop_id}\t{status}\t{one_line(name)}\t{url}")
    for shop in unreadable:
        what = (
            "its secrets cannot be decrypted with ENCRYPTION_KEY: put the key it was stored "
            "with back (after the new one) and run `flask --app app keys rotate`"
            if shop.problem == SECRETS
            else "its stored settings are damaged"
        )
        click.echo(f"warning: shop {shop.id} is skipped: {what}", err=True)
