"""Login, logout, "login required", CSRF, security headers and the users CLI."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from app.web.auth import WRONG_LOGIN
from tests.web.helpers import EMAIL, PASSWORD, Web, csrf, login, post

PAGES = [
    "/",
    "/koppelingen/nieuw",
    "/koppelingen/1",
    "/koppelingen/1/instellingen",
    "/koppelingen/1/webhook",
    "/koppelingen/1/gegevens",
    "/koppelingen/1/voorbeeld",
    "/koppelingen/1/boekingen/1",
    "/bestaat-niet",
]
POSTS = [
    "/logout",
    "/koppelingen/nieuw",
    "/koppelingen/1/instellingen",
    "/koppelingen/1/webhook/nieuw-geheim",
    "/koppelingen/1/webhook/oude-geheimen-intrekken",
    "/koppelingen/1/boekingen/1/opnieuw",
    "/koppelingen/1/gegevens",
]


def test_login_page_renders_with_csrf_token(web: Web) -> None:
    response = web.client.get("/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Inloggen" in html and 'name="csrf_token"' in html


def test_login_then_pages_then_logout(web: Web) -> None:
    response = login(web.client)
    assert response.status_code == 302 and response.location == "/"
    assert web.client.get("/").status_code == 200
    response = post(web.client, "/logout", form_url="/")
    assert response.status_code == 302 and response.location == "/login"
    assert web.client.get("/").status_code == 302


@pytest.mark.parametrize(
    ("email", "password"),
    [
        (EMAIL, "fout-wachtwoord"),
        ("onbekend@example.nl", PASSWORD),
        ("", ""),
    ],
)
def test_wrong_credentials_are_refused_with_one_message(
    web: Web, email: str, password: str
) -> None:
    response = login(web.client, email, password)
    assert response.status_code == 401
    assert WRONG_LOGIN in response.get_data(as_text=True)
    assert web.client.get("/").status_code == 302  # still not logged in


def test_email_is_case_insensitive(web: Web) -> None:
    assert login(web.client, EMAIL.upper()).status_code == 302


@pytest.mark.parametrize("url", PAGES)
def test_every_page_requires_login(web: Web, url: str) -> None:
    response = web.client.get(url)
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


@pytest.mark.parametrize("url", POSTS)
def test_every_form_post_requires_login(web: Web, url: str) -> None:
    response = web.client.post(url, data={"csrf_token": csrf(web.client, "/login")})
    assert response.status_code == 302 and response.location.startswith("/login")


def test_login_returns_to_the_page_asked_for(web: Web) -> None:
    target = web.client.get("/koppelingen/nieuw").location
    assert target == "/login?next=/koppelingen/nieuw"
    token = csrf(web.client, target)
    response = web.client.post(
        "/login",
        data={
            "email": EMAIL,
            "password": PASSWORD,
            "next": "/koppelingen/nieuw",
            "csrf_token": token,
        },
    )
    assert response.location == "/koppelingen/nieuw"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"],
)
def test_login_never_redirects_off_site(web: Web, target: str) -> None:
    token = csrf(web.client, "/login")
    response = web.client.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "next": target, "csrf_token": token}
    )
    assert response.location == "/"


def test_login_without_csrf_token_is_refused(web: Web) -> None:
    web.client.get("/login")
    response = web.client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 400
    assert "Formulier verlopen" in response.get_data(as_text=True)
    assert web.client.get("/").status_code == 302


@pytest.mark.parametrize("url", POSTS)
def test_form_posts_without_csrf_token_are_refused(client: FlaskClient, url: str) -> None:
    response = client.post(url, data={"name": "x"})
    assert response.status_code == 400
    assert "beveiligingscontrole" in response.get_data(as_text=True)


def test_csrf_token_of_another_session_is_refused(web: Web, client: FlaskClient) -> None:
    other = web.app.test_client()
    foreign = csrf(other, "/login")
    response = client.post("/logout", data={"csrf_token": foreign})
    assert response.status_code == 400


def test_public_endpoints_need_no_session_or_csrf(web: Web) -> None:
    assert web.client.get("/healthz").status_code == 200
    assert web.client.get("/metrics").status_code == 200
    with web.client.get("/static/style.css") as response:
        assert response.status_code == 200
    response = web.client.post("/webhooks/mijnwebwinkel/unknown-key", json={})
    assert response.status_code == 404 and response.is_json  # the webhook view answered


def test_session_cookie_is_httponly_and_samesite(web: Web) -> None:
    response = login(web.client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development over http; production sets Secure


def test_pages_send_security_headers(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_deleted_user_loses_the_session(web: Web, client: FlaskClient) -> None:
    with web.services.engine.begin() as conn:
        from app.store.db import users

        conn.execute(users.delete())
    assert client.get("/").status_code == 302


class TestUsersCli:
    def run(self, web: Web, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return web.app.test_cli_runner().invoke(args=["users", *args], input=input)

    def test_create_prompts_for_the_password_and_hashes_it(self, web: Web) -> None:
        result = self.run(
            web, "create", "Nieuw@Example.nl", "--admin", input="geheim-wachtwoord\n" * 2
        )
        assert result.exit_code == 0, result.output
        user = web.services.store.users.get_by_email("nieuw@example.nl")
        assert user and user.password_hash.startswith("scrypt:")
        assert login(web.client, "nieuw@example.nl", "geheim-wachtwoord").status_code == 302

    def test_create_refuses_duplicates_short_passwords_and_bad_addresses(self, web: Web) -> None:
        stdin = ["create", "--password-stdin"]
        assert self.run(web, *stdin, EMAIL, input="x" * 12 + "\n").exit_code == 1
        assert self.run(web, *stdin, "a@b.nl", input="kort\n").exit_code == 2
        assert self.run(web, *stdin, "geen-adres", input="x" * 12 + "\n").exit_code == 2

    def test_set_password_and_list(self, web: Web) -> None:
        result = self.run(
            web, "set-password", EMAIL, "--password-stdin", input="nieuw-wachtwoord\n"
        )
        assert result.exit_code == 0, result.output
        assert login(web.client, EMAIL, "nieuw-wachtwoord").status_code == 302
        assert (
            self.run(
                web, "set-password", "x@y.nl", "--password-stdin", input="x" * 12 + "\n"
            ).exit_code
            == 1
        )
        listed = self.run(web, "list")
        assert EMAIL in listed.output and "scrypt" not in listed.output


def test_without_secret_key_development_uses_a_random_one(web: Web) -> None:
    from dataclasses import replace

    from app import create_app

    settings = replace(web.services.settings, secret_key="")
    first = create_app(settings, web.services)
    second = create_app(settings, web.services)
    assert first.secret_key and first.secret_key != second.secret_key
