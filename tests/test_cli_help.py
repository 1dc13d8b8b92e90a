"""Every command's ``--help`` says what each option is; a shop is "the id from `flask shops
list`"; and no command takes a secret (token, security code, password) as an option, where
shell history, ``ps`` and Heroku's one-off dyno banner would show it."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest

from app import create_app
from app.config import Settings

SECRET_WORDS = ("token", "code1", "code2", "password", "secret")
ALLOWED = {"--secrets-stdin", "--password-stdin"}  # flags that say where to read them


def commands() -> Iterator[tuple[str, click.Command]]:
    app = create_app(Settings(secret_key="x" * 40))

    def walk(prefix: str, command: click.Command) -> Iterator[tuple[str, click.Command]]:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from walk(f"{prefix} {name}".strip(), sub)
        else:
            yield prefix, command

    ours = {"report", "reconcile", "preview", "book", "shops", "keys", "users"}
    for name, command in app.cli.commands.items():
        if name in ours:
            yield from walk(name, command)


COMMANDS = dict(commands())


def test_every_command_of_ours_is_checked() -> None:
    assert {
        "shops add",
        "shops set-credentials",
        "shops pause",
        "shops resume",
        "shops remove",
        "shops list",
        "book",
        "reconcile",
        "report",
        "users create",
    } <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_says_what_it_is(name: str) -> None:
    command = COMMANDS[name]
    assert (command.help or "").strip(), f"{name} has no description"
    for param in command.params:
        if isinstance(param, click.Option) and param.name != "help":
            assert (param.help or "").strip(), f"{name} {param.opts[0]} has no help"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_shop_is_the_id_from_flask_shops_list(name: str) -> None:
    command = COMMANDS[name]
    for param in command.params:
        if param.name not in ("shop_id", "shop_ids"):
            continue
        where = param.help if isinstance(param, click.Option) else command.help
        assert "flask shops list" in (where or ""), f"{name} {param.name}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_no_secret_is_an_option(name: str) -> None:
    for param in COMMANDS[name].params:
        for opt in getattr(param, "opts", []):
            if opt in ALLOWED:
                continue
            assert not any(word in opt.lower() for word in SECRET_WORDS), f"{name} {opt}"
