"""``flask shops add|list|set-credentials|pause|resume|remove``: register a shop after testing
both connections, list them, change their credentials, pause, resume or remove them.

Secrets (tokens, security codes) are never options: see app/cli/secrets.py.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from app.booking import lifecycle
from app.booking.connections import verify_connections
from app.booking.names import MAX_NAME, name_problem, one_line
from app.cli.common import MAPPING_HELP, SHOP_ID, fail, load_mapping, no_shop, shop_or_fail
from app.cli.secrets import SECRETS_STDIN, choose_api, complete, needed_for, read
from app.core.mapping_settings import check_invoice_format
from app.core.start_date import SHOP_TZ, local_text
from app.services import Services
from app.states import ShopStatus
from app.store.engine import utcnow
from app.store.shops import MIN_EB_USERNAME as MIN_USERNAME
from app.store.shops import Credentials, Shop, webhook_url
from app.store.unreadable import SECRETS

shops_cli = AppGroup("shops", help="Register, list, pause, resume and remove shops.")
CHECKLIST = (
    "Before this shop books: switch off e-Boekhouden's own Mijnwebwinkel import "
    "(Beheer > Inrichting > Instellingen > Koppelingen > MijnWebwinkel: untick 'Orders "
    "automatisch importeren') and any other connector that books this shop's orders; "
    "otherwise orders are booked twice."
)
EB_API = click.option(
    "--eb-api",
    type=click.Choice(["rest", "soap"]),
    help="How e-Boekhouden is reached: rest (an API token, recommended) or soap (a "
    "username and two security codes). Default: what the secrets given imply.",
)


def _services() -> Services:
    services: Services = current_app.extensions["services"]
    return services


def _shop(shop_id: int, *, removed: bool = False) -> Shop:
    shop = shop_or_fail(_services(), shop_id)
    if shop.status == ShopStatus.REMOVED and not removed:
        no_shop(shop_id, 1)
    return shop


def _credentials(api: str, values: dict[str, str], current: Credentials | None) -> Credentials:
    """The credentials to store: the values given, else the current ones (SOAP drops
    the API token: a token is what makes a shop book through REST)."""

    def pick(key: str) -> str:
        return values.get(key) or (getattr(current, key) if current else "")

    if api == "soap" and len(pick("eb_username")) < MIN_USERNAME:
        fail(f"the e-Boekhouden username must be at least {MIN_USERNAME} characters")
    return Credentials(
        pick("mww_token"),
        pick("eb_username"),
        pick("eb_code1"),
        pick("eb_code2"),
        pick("eb_api_token") if api == "rest" else "",
    )


def _verify(credentials: Credentials) -> None:
    problems = verify_connections(_services(), credentials)
    if problems:  # the systems' own (Dutch) explanations
        fail("; ".join(f"{system}: {text}" for system, text in problems.items()), 1)


def _book_from(value: dt.datetime | None) -> dt.datetime:
    """``--book-from`` (a shop-local day: its midnight), else now."""
    if value is None:
        return utcnow()
    return value.replace(tzinfo=SHOP_TZ).astimezone(dt.UTC)


@shops_cli.command("add")
@with_appcontext
@click.option("--name", required=True, help="The shop's name, as the pages show it.")
@EB_API
@click.option(
    "--eb-username",
    default="",
    help="The e-Boekhouden username (SOAP only; not a secret). The secrets are read "
    "from --secrets-stdin, the environment or a hidden prompt.",
)
@SECRETS_STDIN
@click.option("--mapping", "mapping_file", help=MAPPING_HELP)
@click.option("--owner", "owner_email", help="The e-mail address of the user who owns the shop.")
@click.option("--inactive", is_flag=True, help="Register as draft: it books nothing yet.")
@click.option(
    "--invoice-format",
    help="Factuurnummer of its bookings, e.g. 'W1-{number}' "
    "(default: the bare order number). Give each shop on one e-Boekhouden "
    "administration its own.",
)
@click.option(
    "--book-from",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Book orders placed from this day on (YYYY-MM-DD, shop-local; default: now). "
    "Older orders are booked only on request (`flask reconcile --since`, Inhalen).",
)
def shops_add(
    name: str,
    eb_api: str | None,
    eb_username: str,
    secrets_stdin: bool,
    mapping_file: str | None,
    owner_email: str | None,
    inactive: bool,
    invoice_format: str | None,
    book_from: dt.datetime | None,
) -> None:
    """Register a shop after testing both connections live (credentials stored
    encrypted); prints its id, webhook URL and secret (JSON). The secrets are read from
    --secrets-stdin (JSON), the environment (SHOP_MWW_TOKEN, SHOP_EB_API_TOKEN,
    SHOP_EB_CODE1, SHOP_EB_CODE2) or a hidden prompt; never from options."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        fail(f"--name must be 1 to {MAX_NAME} characters")
    if name_problem(name):
        fail("--name may not hold line breaks, tabs or other control characters")
    mapping = load_mapping(mapping_file)
    if invoice_format is not None:
        problem = check_invoice_format(invoice_format.strip())
        if problem:
            fail(f"--invoice-format: {problem}")
        mapping = replace(mapping, invoice_format=invoice_format.strip())
    services = _services()
    owner = None
    if owner_email:
        owner = services.store.users.get_by_email(owner_email)
        if owner is None:
            fail(f"no user {owner_email.strip().lower()[:60]}", 1)
    values = read(secrets_stdin)
    if eb_username.strip():
        values["eb_username"] = eb_username.strip()
    api = choose_api(eb_api, values)
    values = complete(values, ("mww_token", *needed_for(api)), use_stdin=secrets_stdin)
    creds = _credentials(api, values, None)
    _verify(creds)
    shop_id, secret = services.store.shops.register(
        name=name,
        credentials=creds,
        mapping=mapping,
        status=ShopStatus.DRAFT if inactive else ShopStatus.ACTIVE,
        owner_id=owner.id if owner else None,
        book_from=_book_from(book_from),
    )
    shop = _shop(shop_id)
    click.echo(CHECKLIST, err=True)
    for other in lifecycle.same_invoice_numbers(services, shop):
        click.echo(
            f"warning: shop {other.id} ({other.name}) books into the same e-Boekhouden "
            f"administration with the same invoice numbers ({shop.mapping.invoice_format}); "
            "give this one its own with --invoice-format (or on Instellingen)",
            err=True,
        )
    click.echo(
        json.dumps(
            {
                "id": shop_id,
                "name": shop.name,
                "status": str(shop.status),
                "invoice_format": shop.mapping.invoice_format,
                "book_from": shop.book_from.isoformat() if shop.book_from else None,
                "webhook_url": webhook_url(services.settings.public_base_url, shop.webhook_key),
                "webhook_secret": secret,
            },
            indent=2,
        )
    )


@shops_cli.command("set-credentials")
@with_appcontext
@click.argument("shop_id", type=SHOP_ID)
@EB_API
@click.option("--eb-username", default="", help="A new e-Boekhouden username (SOAP only).")
@SECRETS_STDIN
def shops_set_credentials(
    shop_id: int, eb_api: str | None, eb_username: str, secrets_stdin: bool
) -> None:
    """Change the credentials of shop SHOP_ID (the id from `flask shops list`), tested
    live first. Secrets as for `shops add`; on a terminal an empty answer keeps the
    stored one. Saved credentials count as working: a refused shop books again and the
    orders its refusal held are sent again."""
    shop = _shop(shop_id)
    values = read(secrets_stdin)
    if eb_username.strip():
        values["eb_username"] = eb_username.strip()
    api = choose_api(eb_api, values, str(shop.credentials.eb_api))
    current = shop.credentials
    needed = ("mww_token", *needed_for(api))
    optional = api == str(current.eb_api)  # a switch of adapter needs its new secrets
    values = complete(values, needed, use_stdin=secrets_stdin, optional=optional)
    creds = _credentials(api, values, current)
    _verify(creds)
    sent = lifecycle.save_credentials(_services(), shop.id, name=shop.name, credentials=creds)
    click.echo(
        f"credentials of shop {shop.id} ({shop.name}) saved; {sent} held order(s) sent again"
    )


@shops_cli.command("list")
@with_appcontext
@click.option("--all", "show_all", is_flag=True, help="Also list removed shops.")
def shops_list(show_all: bool) -> None:
    """List shops (no secrets): id, status, name, webhook URL, start date (shop-local;
    "-": none)."""
    services = _services()
    found, unreadable = services.store.shops.scan(include_removed=show_all)
    rows = [
        (
            s.id,
            str(s.status),
            s.name,
            s.webhook_key,
            local_text(s.book_from) if s.book_from else "-",
        )
        for s in found
    ]
    rows += [(s.id, f"UNREADABLE ({s.problem})", s.name, s.webhook_key, "?") for s in unreadable]
    for shop_id, status, name, key, start in sorted(rows):
        url = webhook_url(services.settings.public_base_url, key)
        click.echo(f"{shop_id}\t{status}\t{one_line(name)}\t{url}\tfrom {start or '-'}")
    for shop in unreadable:
        what = (
            "its secrets cannot be decrypted with ENCRYPTION_KEY: put the key it was stored "
            "with back (after the new one) and run `flask --app app keys rotate`"
            if shop.problem == SECRETS
            else "its stored settings are damaged"
        )
        click.echo(f"warning: shop {shop.id} is skipped: {what}", err=True)


@shops_cli.command("pause")
@with_appcontext
@click.argument("shop_id", type=SHOP_ID)
def shops_pause(shop_id: int) -> None:
    """Pause shop SHOP_ID (the id from `flask shops list`): nothing is booked, its
    notifications are still accepted; `shops resume` catches up."""
    shop = _shop(shop_id)
    if not lifecycle.pause(_services(), shop.id):
        fail(f"shop {shop.id} is {shop.status}: only an active shop can be paused", 1)
    click.echo(f"shop {shop.id} ({shop.name}) paused")


@shops_cli.command("resume")
@with_appcontext
@click.argument("shop_id", type=SHOP_ID)
def shops_resume(shop_id: int) -> None:
    """Resume paused shop SHOP_ID (the id from `flask shops list`); a pass is queued at
    once and books what came in while it was paused."""
    shop = _shop(shop_id)
    if not lifecycle.resume(_services(), shop.id):
        fail(f"shop {shop.id} is {shop.status}, not paused", 1)
    click.echo(f"shop {shop.id} ({shop.name}) resumed; a pass catches up now")


@shops_cli.command("remove")
@with_appcontext
@click.argument("shop_id", type=SHOP_ID)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def shops_remove(shop_id: int, yes: bool) -> None:
    """Remove shop SHOP_ID (the id from `flask shops list`) for good: it books nothing
    more, its credentials and webhook secret are erased; its bookings register stays."""
    shop = _shop(shop_id)
    if not yes:
        click.confirm(
            f"Remove shop {shop.id} ({shop.name})? Its credentials are erased; its "
            "bookings register is kept",
            abort=True,
        )
    lifecycle.remove(_services(), shop.id)
    click.echo(f"shop {shop.id} ({shop.name}) removed; its bookings register is kept")
