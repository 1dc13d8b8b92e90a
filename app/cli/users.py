"""``flask --app app users create|set-password|list|disable|enable|delete``: the people who
may log in. Passwords are asked (hidden, twice) or read from stdin with
``--password-stdin``; never from the command line, where ``ps`` and shell history see them.
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from app.accounts.passwords import MAX_EMAIL, hash_password, normal_email, password_problem
from app.cli.common import fail
from app.states import Role
from app.store.engine import engine_for
from app.store.users import User, UserStore

users = AppGroup("users", help="The people who may log in to the web interface.")
PASSWORD_STDIN = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)


def _users() -> UserStore:
    """The database alone: managing users needs neither Redis nor the encryption key."""
    return UserStore(engine_for(current_app.extensions["settings"].database_url))


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password)
    if problem:
        fail(problem)
    return password


def valid_email(email: str) -> str:
    found = normal_email(email)
    if found is None:
        fail(f"{email.strip()[:60]!r} is not an e-mail address (at most {MAX_EMAIL} characters)")
    return found


def _existing(email: str) -> User:
    user = _users().get_by_email(email)
    if user is None:
        fail(f"no user {email.strip().lower()[:60]}", 1)
    return user


@users.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="An administrator: every shop and /admin/rq.")
@click.option(
    "--shop",
    "shop_ids",
    type=click.IntRange(1, 2**31 - 1),
    multiple=True,
    help="A shop this user owns: the id from `flask shops list` (repeatable).",
)
@PASSWORD_STDIN
def create_user(email: str, admin: bool, shop_ids: tuple[int, ...], password_stdin: bool) -> None:
    """Create a user who logs in with EMAIL: an owner of the --shop shops, or --admin."""
    email = valid_email(email)
    users_ = _users()
    if users_.get_by_email(email):
        fail(f"user {email} already exists", 1)
    missing = sorted(set(shop_ids) - users_.existing_shop_ids(shop_ids))
    if missing:
        fail(
            "no shop with id "
            + ", ".join(map(str, missing))
            + "; `flask shops list` shows the ids",
            1,
        )
    if not admin and not shop_ids:
        click.echo(
            "note: this user owns no shop yet; add one with --shop or on the "
            "shop's page Gebruikers",
            err=True,
        )
    role = Role.ADMIN if admin else Role.OWNER
    user_id = users_.create(email, hash_password(_password(password_stdin)), role, shop_ids)
    click.echo(f"created user {user_id} {email} ({role})")


@users.command("set-password")
@click.argument("email")
@PASSWORD_STDIN
def set_password(email: str, password_stdin: bool) -> None:
    """Give EMAIL a new password; every session of EMAIL ends."""
    user = _existing(email)
    _users().set_password(user.id, hash_password(_password(password_stdin)))
    click.echo(f"password of {user.email} changed; its sessions have ended")


@users.command("disable")
@click.argument("email")
def disable_user(email: str) -> None:
    """EMAIL can no longer log in; its sessions end at once."""
    user = _existing(email)
    _users().set_disabled(user.id, True)
    click.echo(f"{user.email} disabled")


@users.command("enable")
@click.argument("email")
def enable_user(email: str) -> None:
    """EMAIL may log in again."""
    user = _existing(email)
    _users().set_disabled(user.id, False)
    click.echo(f"{user.email} enabled")


@users.command("delete")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_user(email: str, yes: bool) -> None:
    """Remove EMAIL and its links to shops (the shops stay)."""
    user = _existing(email)
    if not yes:
        click.confirm(f"Delete {user.email}?", abort=True)
    _users().delete(user.id)
    click.echo(f"{user.email} deleted")


@users.command("list")
def list_users() -> None:
    """List users: id, e-mail, role, state, owned shops (no password hashes)."""
    users_ = _users()
    for user in users_.all():
        shops = ",".join(map(str, sorted(users_.shop_ids(user.id)))) or "-"
        state = "disabled" if user.disabled else "active"
        created = f"{user.created_at:%Y-%m-%d}" if user.created_at else ""
        click.echo(f"{user.id}\t{user.email}\t{user.role}\t{state}\tshops {shops}\t{created}")
