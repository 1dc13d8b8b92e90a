"""Sessions end: 12 hours after login however busy, at logout (every copy of the cookie),
after a password change, and when the account is disabled or deleted."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient

from app.accounts.passwords import hash_password
from app.config import SESSION_IDLE_TIMEOUT, SESSION_MAX_LIFETIME
from tests.web.helpers import EMAIL, PASSWORD, Web, login, post


def copy_of(web: Web, client: FlaskClient) -> FlaskClient:
    """A second client holding a copy of ``client``'s session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = web.app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/").status_code == 200
    return thief


def test_the_configured_lifetime_is_in_force(web: Web) -> None:
    assert web.app.permanent_session_lifetime == dt.timedelta(seconds=SESSION_IDLE_TIMEOUT)
    response = login(web.client)
    expires = next(c for c in response.headers.getlist("Set-Cookie") if "session=" in c)
    assert "Expires=" in expires
    assert SESSION_IDLE_TIMEOUT == 12 * 3600


def test_a_session_ends_12_hours_after_login_however_busy(
    web: Web, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ASVS 3.3.2: re-authentication after 12 hours also while the session is in use
    (before, a request every few hours kept one cookie alive for ever)."""
    import itsdangerous.timed

    real = itsdangerous.timed.time.time  # the time module: the app's clock too
    for hours in (3, 6, 9, 11.9):
        monkeypatch.setattr(itsdangerous.timed.time, "time", lambda h=hours: real() + h * 3600)
        assert client.get("/").status_code == 200, hours  # active: renewed each time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() + SESSION_MAX_LIFETIME + 60)
    assert client.get("/").status_code == 302  # 12 h after the login: log in again
    monkeypatch.setattr(itsdangerous.timed.time, "time", real)
    assert login(client).status_code == 302
    assert client.get("/").status_code == 200


def test_a_session_without_its_login_time_has_ended(web: Web, client: FlaskClient) -> None:
    """Cookies signed before the lifetime existed carry no login time: log in again."""
    with client.session_transaction() as session:
        del session["since"]
    assert client.get("/").status_code == 302


def test_logout_ends_every_copy_of_the_session(web: Web, client: FlaskClient) -> None:
    thief = copy_of(web, client)
    assert post(client, "/logout", form_url="/").status_code == 302
    assert thief.get("/").status_code == 302
    assert login(web.client).status_code == 302  # logging in again works


def test_a_new_password_ends_every_session(web: Web, client: FlaskClient) -> None:
    thief = copy_of(web, client)
    result = web.app.test_cli_runner().invoke(
        args=["users", "set-password", EMAIL, "--password-stdin"], input="nieuw-wachtwoord\n"
    )
    assert result.exit_code == 0, result.output
    assert thief.get("/").status_code == 302
    assert client.get("/").status_code == 302


def test_disable_and_delete_end_sessions_and_logins(web: Web, client: FlaskClient) -> None:
    cli = web.app.test_cli_runner()
    assert cli.invoke(args=["users", "disable", EMAIL]).exit_code == 0
    assert client.get("/").status_code == 302
    assert login(web.app.test_client()).status_code == 401
    assert cli.invoke(args=["users", "enable", EMAIL]).exit_code == 0
    fresh = web.app.test_client()
    assert login(fresh).status_code == 302
    assert cli.invoke(args=["users", "delete", EMAIL, "--yes"]).exit_code == 0
    assert fresh.get("/").status_code == 302
    assert web.services.store.users.get_by_email(EMAIL) is None
    assert cli.invoke(args=["users", "delete", EMAIL, "--yes"]).exit_code == 1


def test_a_session_of_another_user_id_is_not_accepted_after_recreation(web: Web) -> None:
    """A deleted user's id reused by a new account does not inherit old cookies."""
    store = web.services.store.users
    client = web.app.test_client()
    assert login(client).status_code == 302
    user = store.get_by_email(EMAIL)
    assert user is not None
    store.delete(user.id)
    store.create(EMAIL, hash_password(PASSWORD))  # a new salt, as every new account
    assert client.get("/").status_code == 302


def test_production_names_the_cookie_for_this_host_only(web: Web) -> None:
    """ASVS 3.4.4: ``__Host-`` makes the browser keep the cookie to this host, HTTPS and
    path ``/`` (no subdomain can set or read it)."""
    import dataclasses

    from app import create_app

    production = dataclasses.replace(web.services.settings, env="production")
    services = dataclasses.replace(web.services, settings=production)
    app = create_app(production, services)
    client = app.test_client()
    response = login(client)  # the CSRF cookie rides on the same session
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "session=" in c)
    assert cookie.startswith("__Host-session=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
