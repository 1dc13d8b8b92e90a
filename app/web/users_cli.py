"""``flask --app app users create|set-password|list``: administrators of the web interface."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from werkzeug.security import generate_password_hash

from app.store.db import engine_for
from app.store.users import UserStore

users = AppGroup("users", help="Administrators who may log in to the web interface.")
MIN_PASSWORD = 10


def _users() -> UserStore:
    """The database alone: creating a user needs neither Redis nor the encryption key."""
    return UserStore(engine_for(current_app.extensions["settings"].database_url))


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def _password(password: str | None) -> str:
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        click.echo(f"error: the password must be at least {MIN_PASSWORD} characters", err=True)
        sys.exit(2)
    return password


def _valid_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or any(c.isspace() for c in email):
        click.echo(f"error: {email!r} is not an e-mail address", err=True)
        sys.exit(2)
    return email


@users.command("create")
@click.argument("email")
@click.option("--password", envvar="NEW_USER_PASSWORD", help="Read from the environment "
              "variable NEW_USER_PASSWORD, else asked (hidden). Avoid typing it on the "
              "command line.")
def create_user(email: str, password: str | None) -> None:
    """Create an administrator who logs in with EMAIL."""
    email = _valid_email(email)
    users_ = _users()
    if users_.get_by_email(email):
        click.echo(f"error: user {email} already exists", err=True)
        sys.exit(1)
    user_id = users_.create(email, hash_password(_password(password)))
    click.echo(f"created user {user_id} {email}")


@users.command("set-password")
@click.argument("email")
@click.option("--password", envvar="NEW_USER_PASSWORD", help="As for `users create`.")
def set_password(email: str, password: str | None) -> None:
    """Give EMAIL a new password."""
    users_ = _users()
    user = users_.get_by_email(email)
    if user is None:
        click.echo(f"error: no user {email.strip().lower()}", err=True)
        sys.exit(1)
    users_.set_password(user.id, hash_password(_password(password)))
    click.echo(f"password of {user.email} changed")


@users.command("list")
def list_users() -> None:
    """List administrators (no password hashes)."""
    for user in _users().all():
        click.echo(f"{user.id}\t{user.email}\t{user.created_at:%Y-%m-%d}")
