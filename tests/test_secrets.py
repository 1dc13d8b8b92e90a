"""Secrets at rest and in configuration: webhook secret rotations keep every secret of the
grace period valid, `flask keys rotate` re-encrypts everything, a bad key or a weak
SECRET_KEY stops start-up, production sends HSTS, /metrics needs its bearer token."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets

import pytest
from sqlalchemy import select, update

from app import create_app
from app.config import MAX_KEPT_WEBHOOK_SECRETS, Settings
from app.crypto import Vault, generate_key
from app.errors import ConfigError
from app.services import Services
from app.store.db import shops
from app.store.engine import transaction
from tests.helpers import World, signed_headers

PROD = {
    "APP_ENV": "production",
    "DATABASE_URL": "postgresql://db/x",
    "REDIS_URL": "redis://r:6379/0",
    "ENCRYPTION_KEY": generate_key(),
    "PUBLIC_BASE_URL": "https://koppeling.example.nl",
}


def notify(world: World, secret: str, number: int) -> int:
    client = create_app(services=world.services).test_client()
    body = json.dumps({"order_number": number}).encode()
    return client.post(
        f"/webhooks/mijnwebwinkel/{world.shop.webhook_key}",
        data=body,
        headers=signed_headers(secret, body),
    ).status_code


def test_two_rotations_in_a_row_keep_every_secret_of_the_grace_period(world: World) -> None:
    store = world.services.store.shops
    first = world.webhook_secret
    second = store.rotate_webhook_secret(world.shop.id)
    third = store.rotate_webhook_secret(world.shop.id)
    world.services.webhook_shops.forget()
    assert world.reload_shop().webhook_secrets == (third, second, first)
    for number, secret in enumerate((first, second, third), 1):
        assert notify(world, secret, number) == 202


def test_a_secret_stops_working_when_its_own_grace_period_ends(world: World) -> None:
    store = world.services.store.shops
    first = world.webhook_secret
    second = store.rotate_webhook_secret(world.shop.id)
    third = store.rotate_webhook_secret(world.shop.id)
    with transaction(world.services.engine) as conn:  # the first one's grace is over
        retired = conn.execute(
            select(shops.c.retired_webhook_secrets).where(shops.c.id == world.shop.id)
        ).scalar_one()
        retired[-1]["until"] = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).isoformat()
        conn.execute(
            update(shops).where(shops.c.id == world.shop.id).values(retired_webhook_secrets=retired)
        )
    world.services.webhook_shops.forget()
    assert world.reload_shop().webhook_secrets == (third, second)
    assert notify(world, first, 1) == 401
    assert notify(world, second, 2) == 202
    store.rotate_webhook_secret(world.shop.id)  # expired ones are dropped from storage
    with world.services.engine.connect() as conn:
        kept = conn.execute(
            select(shops.c.retired_webhook_secrets).where(shops.c.id == world.shop.id)
        ).scalar_one()
    assert len(kept) == 2


def with_key(world: World, keys: str) -> Services:
    settings = dataclasses.replace(world.settings, encryption_key=keys)
    return dataclasses.replace(world.services, settings=settings, vault=Vault(keys))


def test_keys_rotate_re_encrypts_everything_then_the_old_key_can_go(world: World) -> None:
    old = world.settings.encryption_key
    world.services.store.shops.rotate_webhook_secret(world.shop.id)  # a retired secret too
    new = generate_key()
    both = with_key(world, f"{new},{old}")
    runner = create_app(services=both).test_cli_runner()
    first = runner.invoke(args=["keys", "rotate"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {"reencrypted": 3, "already_current": 0}
    again = runner.invoke(args=["keys", "rotate"])  # idempotent
    assert json.loads(again.output) == {"reencrypted": 0, "already_current": 3}
    only_new = with_key(world, new)
    shop = only_new.load_shop(world.shop.id)
    assert shop is not None and shop.credentials == world.shop.credentials
    assert shop.webhook_secrets[1] == world.webhook_secret


def test_keys_rotate_without_the_old_key_fails_with_one_line(world: World) -> None:
    runner = create_app(services=with_key(world, generate_key())).test_cli_runner()
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 1
    assert "keep the old key" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    "keys", ["not-a-key", f"{generate_key()},kapot"], ids=["not-a-key", "a-key-then-not"]
)
def test_an_invalid_encryption_key_stops_start_up_with_a_clear_message(keys: str) -> None:
    with pytest.raises(ConfigError, match=r"ENCRYPTION_KEY: .* not a valid Fernet key"):
        Settings.from_env({"ENCRYPTION_KEY": keys})


@pytest.mark.parametrize("key", ["abc", "x" * 40, "wachtwoord" * 4])
def test_a_weak_secret_key_is_refused_in_production(key: str) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY must be at least 32 random"):
        Settings.from_env({**PROD, "SECRET_KEY": key})
    Settings.from_env({"SECRET_KEY": key})  # development does not care


def test_a_generated_secret_key_is_accepted_in_production() -> None:
    assert Settings.from_env({**PROD, "SECRET_KEY": secrets.token_hex(32)}).is_production
    assert Settings.from_env({**PROD, "SECRET_KEY": secrets.token_urlsafe(32)}).is_production


def test_production_sends_hsts(world: World) -> None:
    production = dataclasses.replace(world.settings, env="production")
    services = dataclasses.replace(world.services, settings=production)
    client = create_app(production, services).test_client()
    for path in ("/login", "/healthz"):
        assert "max-age=" in client.get(path).headers["Strict-Transport-Security"]
    development = create_app(services=world.services).test_client()
    assert "Strict-Transport-Security" not in development.get("/login").headers


def test_metrics_need_the_bearer_token(world: World) -> None:
    token = secrets.token_urlsafe(24)
    settings = dataclasses.replace(world.settings, metrics_token=token)
    client = create_app(
        settings, dataclasses.replace(world.services, settings=settings)
    ).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and b"mww_notifications_total" in ok.data
    production = dataclasses.replace(world.settings, env="production")
    closed = create_app(production, dataclasses.replace(world.services, settings=production))
    assert closed.test_client().get("/metrics").status_code == 403  # no token set


def test_a_dropped_key_gives_a_clear_page_and_a_retryable_webhook_answer(world: World) -> None:
    from app.accounts.passwords import hash_password
    from app.states import Role

    services = with_key(world, generate_key())  # the key the secrets were stored with is gone
    app = create_app(services=services)
    services.store.users.create(
        "beheer@example.nl", hash_password("een-lang-wachtwoord"), Role.ADMIN
    )
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = html.split('name="csrf_token" value="')[1].split('"')[0]
    client.post(
        "/login",
        data={"email": "beheer@example.nl", "csrf_token": token, "password": "een-lang-wachtwoord"},
    )
    page = client.get(f"/koppelingen/{world.shop.id}/webhook")
    assert page.status_code == 500 and "keys rotate" in page.get_data(as_text=True)
    assert notify_with(services, world, 1) == 503


def notify_with(services: Services, world: World, number: int) -> int:
    client = create_app(services=services).test_client()
    body = json.dumps({"order_number": number}).encode()
    return client.post(
        f"/webhooks/mijnwebwinkel/{world.shop.webhook_key}",
        data=body,
        headers=signed_headers(world.webhook_secret, body),
    ).status_code


def test_rotations_keep_at_most_three_earlier_secrets(world: World) -> None:
    """The probe: 1,000 rotations made a 225 KB row, decrypted on every webhook. Now the
    row keeps the current secret and the three newest earlier ones."""
    store = world.services.store.shops
    made = [world.webhook_secret] + [store.rotate_webhook_secret(world.shop.id) for _ in range(40)]
    world.services.webhook_shops.forget()
    kept = world.reload_shop().webhook_secrets
    assert kept == tuple(reversed(made[-(MAX_KEPT_WEBHOOK_SECRETS + 1) :]))
    with world.services.engine.connect() as conn:
        row = conn.execute(
            select(shops.c.retired_webhook_secrets).where(shops.c.id == world.shop.id)
        ).scalar_one()
    assert len(row) == MAX_KEPT_WEBHOOK_SECRETS and len(json.dumps(row)) < 2_000
    assert notify(world, made[-4], 1) == 202  # the oldest kept one works
    assert notify(world, made[-5], 2) == 401  # the one before it not


def test_earlier_secrets_can_be_revoked_at_once(world: World) -> None:
    store = world.services.store.shops
    leaked = world.webhook_secret
    current = store.rotate_webhook_secret(world.shop.id)
    assert store.revoke_earlier_webhook_secrets(world.shop.id) == 1
    world.services.webhook_shops.forget()
    assert world.reload_shop().webhook_secrets == (current,)
    assert world.reload_shop().secret_grace_until is None
    assert notify(world, leaked, 1) == 401
    assert notify(world, current, 2) == 202
    assert store.revoke_earlier_webhook_secrets(world.shop.id) == 0
