"""What every command shares: one-line errors with exit codes, and reading JSON files.

The commands speak English, as the operator's tools (like the README and click's own
"Usage:"); what they print for a shop owner (a booking's reason, the Controle report) is
the Dutch the web interface shows."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from app.core.mapping_settings import MappingSettings
from app.core.settings_checks import validate
from app.services import Services
from app.store.shops import Shop, UnreadableShopError

SHOP_ID = click.IntRange(1, 2**31 - 1)  # the tables' integer ids
SHOP_HELP = "The shop: the id from `flask shops list`."
MAPPING_HELP = (
    "Mapping settings JSON, as stored for a shop (see docs/booking-rules.md); "
    "default: the incumbent's defaults."
)


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr, no traceback."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def no_shop(shop_id: int, code: int = 2) -> NoReturn:
    fail(f"no shop with id {shop_id}; `flask shops list` shows the ids", code)


def shop_or_fail(services: Services, shop_id: int) -> Shop:
    """The shop, or one line and exit 2 (not there) or 1 (its stored row cannot be read)."""
    try:
        shop = services.load_shop(shop_id)
    except UnreadableShopError as err:
        what = (
            "its secrets cannot be decrypted with ENCRYPTION_KEY"
            if err.shop.problem == ("secrets")
            else "its stored settings are damaged"
        )
        fail(f"shop {shop_id} cannot be read: {what} (see `flask shops list`)", 1)
    if shop is None:
        no_shop(shop_id)
    return shop


def load_json(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        fail(f"cannot read {what} {path}: {err.strerror}")
    except ValueError as err:
        fail(f"{what} {path} is not valid JSON: {err}")


def load_object(path: str, what: str) -> dict[str, Any]:
    data = load_json(path, what)
    if not isinstance(data, dict):
        fail(f"{what} {path} must hold a JSON object, not a {type(data).__name__}")
    return data


def load_mapping(path: str | None) -> MappingSettings:
    if not path:
        return MappingSettings()
    data = load_object(path, "mapping file")
    try:
        mapping = MappingSettings.from_json(data)
    except (KeyError, TypeError, ValueError) as err:
        fail(f"mapping file {path} is invalid: {err}")
    problems = validate(mapping)
    if problems:
        field, message = next(iter(problems.items()))
        fail(f"mapping file {path}: {field}: {message}")
    return mapping
