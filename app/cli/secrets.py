"""Shop secrets for ``flask shops add|set-credentials``, never from the command line
(where shell history, ``ps`` and Heroku's one-off dyno banner show them). In this order:

1. ``--secrets-stdin``: one JSON object on stdin, e.g.
   ``{"mww_token": "…", "eb_api_token": "…"}`` or, for SOAP,
   ``{"mww_token": "…", "eb_username": "…", "eb_code1": "…", "eb_code2": "…"}``;
2. the environment: ``SHOP_MWW_TOKEN``, ``SHOP_EB_API_TOKEN``, ``SHOP_EB_CODE1``,
   ``SHOP_EB_CODE2`` (and ``SHOP_EB_USERNAME``, not a secret);
3. a hidden prompt for what is still missing, on a terminal.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping

import click

from app.cli.common import fail

KEYS = ("mww_token", "eb_api_token", "eb_username", "eb_code1", "eb_code2")
SECRET_KEYS = ("mww_token", "eb_api_token", "eb_code1", "eb_code2")
ENV = {key: f"SHOP_{key.upper()}" for key in KEYS}
PROMPTS = {
    "mww_token": "Mijnwebwinkel API token",
    "eb_api_token": "e-Boekhouden API token",
    "eb_username": "e-Boekhouden username",
    "eb_code1": "e-Boekhouden security code 1",
    "eb_code2": "e-Boekhouden security code 2",
}
HOW = (
    "give them as JSON on stdin with --secrets-stdin, or in the environment ("
    + ", ".join(ENV[k] for k in SECRET_KEYS)
    + "), or run the command on a terminal to be asked"
)
SECRETS_STDIN = click.option(
    "--secrets-stdin",
    is_flag=True,
    help="Read the secrets as one JSON object from stdin (keys: " + ", ".join(KEYS) + ").",
)


def from_stdin() -> dict[str, str]:
    raw = sys.stdin.read()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        fail(f"--secrets-stdin: stdin is not valid JSON ({err.msg})")
    if not isinstance(data, dict):
        fail("--secrets-stdin: stdin must hold one JSON object")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        fail(f"--secrets-stdin: unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
    if any(not isinstance(value, str) for value in data.values()):
        fail("--secrets-stdin: every value must be a JSON string")
    return {key: value.strip() for key, value in data.items()}


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    env = os.environ if environ is None else environ
    return {key: env[name].strip() for key, name in ENV.items() if env.get(name, "").strip()}


def read(use_stdin: bool) -> dict[str, str]:
    """What stdin (with ``--secrets-stdin``) or else the environment gives."""
    return from_stdin() if use_stdin else from_environment()


def complete(
    values: dict[str, str], needed: Iterable[str], *, use_stdin: bool, optional: bool = False
) -> dict[str, str]:
    """``values`` with the ``needed`` keys filled in: a hidden prompt on a terminal for
    each one missing. ``optional``: a prompt may be left empty (the stored value stays);
    otherwise a value still missing fails with how to give it."""
    values = dict(values)
    missing = [key for key in needed if not values.get(key)]
    if missing and not use_stdin and sys.stdin.isatty():
        for key in missing:
            suffix = " (empty: keep the stored one)" if optional else ""
            answer = click.prompt(
                PROMPTS[key] + suffix,
                default="" if optional else None,
                hide_input=key in SECRET_KEYS,
                show_default=False,
            )
            if answer.strip():
                values[key] = answer.strip()
        missing = [key for key in needed if not values.get(key)]
    if missing and not optional:
        fail(f"missing {', '.join(PROMPTS[k] for k in missing)}: {HOW}")
    return values


def needed_for(api: str) -> tuple[str, ...]:
    """The credentials one e-Boekhouden adapter needs (besides the Mijnwebwinkel token)."""
    return ("eb_api_token",) if api == "rest" else ("eb_username", "eb_code1", "eb_code2")


def choose_api(chosen: str | None, values: Mapping[str, str], current: str | None = None) -> str:
    """``--eb-api``, else what the given secrets imply, else the shop's current adapter,
    else asked on a terminal (REST recommended)."""
    if chosen:
        return chosen
    if values.get("eb_api_token"):
        return "rest"
    if any(values.get(k) for k in ("eb_username", "eb_code1", "eb_code2")):
        return "soap"
    if current:
        return current
    if sys.stdin.isatty():
        return str(
            click.prompt(
                "e-Boekhouden: API token (rest, recommended) or username and codes (soap)",
                type=click.Choice(["rest", "soap"]),
                default="rest",
            )
        )
    fail(f"say how e-Boekhouden is reached with --eb-api rest|soap, or {HOW}")
