""" "Koppeling toevoegen", changing the credentials, the webhook URL and "Nieuw geheim"."""

from __future__ import annotations

import html as htmllib
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from app.config import MAX_KEPT_WEBHOOK_SECRETS, WEBHOOK_ROTATIONS_PER_DAY
from app.states import BookingState, ShopStatus
from app.store.db import shops
from app.web.connection_form import SHORT_USERNAME
from tests.web.helpers import (
    GOOD,
    GOOD_CODE1,
    GOOD_CODE2,
    GOOD_TOKEN,
    GOOD_USER,
    Web,
    add_shop,
    new_shop,
    post,
    shop_of,
)


def text(response: Any) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def shop_count(web: Web) -> int:
    return len(web.services.store.shops.all())


def test_new_shop_is_verified_stored_encrypted_and_goes_to_step_2(
    web: Web, client: FlaskClient
) -> None:
    response = add_shop(client)
    assert response.status_code == 302
    assert response.location.endswith("/instellingen")
    with web.services.engine.connect() as conn:
        (row,) = conn.execute(select(shops)).all()
    assert row.status == ShopStatus.DRAFT and row.name == "De Theepot"
    for secret in (GOOD_TOKEN, GOOD_CODE1, GOOD_CODE2, GOOD_USER):
        assert secret not in row.credentials  # encrypted at rest
    assert shop_of(web, row.id).credentials.mww_token == GOOD_TOKEN
    page = text(client.get(response.location))
    assert "Beide verbindingen werken" in page


def test_too_short_username_gets_the_incumbents_explanation(web: Web, client: FlaskClient) -> None:
    response = add_shop(client, eb_username="kort")
    assert response.status_code == 400
    assert SHORT_USERNAME in text(response)
    assert "Beheer > Uw account > Gebruikers > Toevoegen" in text(response)
    assert shop_count(web) == 0


def test_missing_fields_are_named(web: Web, client: FlaskClient) -> None:
    response = post(client, "/koppelingen/nieuw", {})
    page = text(response)
    assert response.status_code == 400
    assert "Vul de naam van de winkel in." in page
    assert "Vul de API-token uit Mijnwebwinkel in" in page
    assert "Vul het API-token van e-Boekhouden.nl in" in page  # REST is the default
    page = text(post(client, "/koppelingen/nieuw", {"eb_api": "soap"}))
    assert "Vul beveiligingscode 2 in" in page
    assert shop_count(web) == 0


@pytest.mark.parametrize(
    ("overrides", "shown", "not_shown"),
    [
        (
            {"mww_token": "verkeerd"},
            ['id="error-mww">Mijnwebwinkel weigert de API-token'],
            ['id="error-eb"'],
        ),
        (
            {"eb_code2": "verkeerd"},
            ['id="error-eb">e-Boekhouden weigert de inloggegevens.'],
            ['id="error-mww"'],
        ),
        (
            {"mww_token": "verkeerd", "eb_code1": "verkeerd"},
            ['id="error-mww">Mijnwebwinkel weigert', 'id="error-eb">e-Boekhouden weigert'],
            [],
        ),
    ],
)
def test_wrong_credentials_say_which_system_refused(
    web: Web, client: FlaskClient, overrides: dict[str, str], shown: list[str], not_shown: list[str]
) -> None:
    response = add_shop(client, **overrides)
    page = text(response)
    assert response.status_code == 400
    assert "De koppeling is niet opgeslagen" in page
    for message in shown:
        assert message in page
    for message in not_shown:
        assert message not in page
    assert shop_count(web) == 0
    assert "verkeerd" not in page  # secrets typed are not echoed back either


def test_new_shop_without_csrf_token_stores_nothing(web: Web, client: FlaskClient) -> None:
    response = client.post("/koppelingen/nieuw", data=GOOD)
    assert response.status_code == 400
    assert shop_count(web) == 0


def test_stored_secrets_are_never_shown_in_full(web: Web, client: FlaskClient) -> None:
    shop_id = new_shop(web, client)
    for url in (
        "/",
        f"/koppelingen/{shop_id}",
        f"/koppelingen/{shop_id}/gegevens",
        f"/koppelingen/{shop_id}/instellingen",
        f"/koppelingen/{shop_id}/webhook",
    ):
        page = text(client.get(url))
        for secret in (GOOD_TOKEN, GOOD_CODE1, GOOD_CODE2):
            assert secret not in page, (url, secret)
    page = text(client.get(f"/koppelingen/{shop_id}/gegevens"))
    assert "••••6789 (ongewijzigd)" in page


def test_changing_credentials_keeps_empty_secret_fields(web: Web, client: FlaskClient) -> None:
    shop_id = new_shop(web, client)
    url = f"/koppelingen/{shop_id}/gegevens"
    response = post(client, url, {"name": "Nieuwe naam", "eb_username": GOOD_USER})
    assert response.status_code == 302
    shop = shop_of(web, shop_id)
    assert shop.name == "Nieuwe naam" and shop.credentials.mww_token == GOOD_TOKEN


def test_changing_credentials_verifies_them(web: Web, client: FlaskClient) -> None:
    shop_id = new_shop(web, client)
    url = f"/koppelingen/{shop_id}/gegevens"
    response = post(client, url, {"name": "X", "eb_username": GOOD_USER, "eb_code1": "fout"})
    assert response.status_code == 400
    assert "e-Boekhouden weigert de inloggegevens" in text(response)
    assert shop_of(web, shop_id).credentials.eb_code1 == GOOD_CODE1


def test_fixed_credentials_reactivate_a_refused_shop(web: Web, client: FlaskClient) -> None:
    shop_id = new_shop(web, client)
    web.services.store.shops.set_status(shop_id, ShopStatus.ACTIVE)  # installed
    web.services.store.shops.mark_auth_failed(shop_id, "Mijnwebwinkel weigert de API-token.")
    page = text(client.get(f"/koppelingen/{shop_id}"))
    assert "Er wordt niet geboekt: Mijnwebwinkel weigert de API-token." in page
    post(
        client,
        f"/koppelingen/{shop_id}/gegevens",
        {"name": "X", "eb_username": GOOD_USER, "mww_token": GOOD_TOKEN},
    )
    shop = shop_of(web, shop_id)
    assert shop.status == ShopStatus.ACTIVE and shop.status_error is None


def test_unknown_shop_is_a_404_page(client: FlaskClient) -> None:
    response = client.get("/koppelingen/999/webhook")
    assert response.status_code == 404
    assert "Deze koppeling bestaat niet" in text(response)


def test_webhook_page_shows_url_and_secret(web: Web, client: FlaskClient) -> None:
    shop_id = new_shop(web, client)
    shop = shop_of(web, shop_id)
    page = text(client.get(f"/koppelingen/{shop_id}/webhook"))
    url = f"https://koppeling.example.nl/webhooks/mijnwebwinkel/{shop.webhook_key}"
    assert url in page
    assert shop.webhook_secrets[0] in page
    assert "Het vorige geheim blijft geldig" not in page


def test_new_secret_keeps_the_old_one_valid_for_a_grace_period(
    web: Web, client: FlaskClient
) -> None:
    shop_id = new_shop(web, client)
    old = shop_of(web, shop_id).webhook_secrets[0]
    url = f"/koppelingen/{shop_id}/webhook"
    response = post(client, f"{url}/nieuw-geheim", form_url=url)
    assert response.status_code == 302 and response.location == url
    shop = shop_of(web, shop_id)
    assert shop.webhook_secrets[1] == old and shop.webhook_secrets[0] != old
    page = text(client.get(url))
    assert shop.webhook_secrets[0] in page
    assert "het vorige geheim blijft nog 24 uur geldig" in page
    assert "Het vorige geheim blijft geldig tot" in page


def test_shop_list_shows_counts(web: Web, client: FlaskClient) -> None:
    shop_id = new_shop(web, client)
    web.services.store.bookings.record_unclaimed(
        shop_id, "1001", state=BookingState.FAILED, reason="Kapot."
    )
    page = text(client.get("/"))
    assert "De Theepot" in page and "Nog niet geïnstalleerd" in page
    assert "?status=mislukt" in page


def test_a_leaked_secret_is_revoked_at_once_and_rotations_are_limited(
    web: Web, client: FlaskClient
) -> None:
    """The probe: a leaked webhook secret could not be revoked before its grace ended, and
    rotations were unbounded. "Oude geheimen nu intrekken" ends every earlier secret now;
    "Nieuw geheim" works five times a day per shop."""
    shop_id = new_shop(web, client)
    url = f"/koppelingen/{shop_id}/webhook"
    assert 'id="revoke"' not in text(client.get(url))  # nothing to revoke yet
    for _ in range(WEBHOOK_ROTATIONS_PER_DAY):
        assert post(client, f"{url}/nieuw-geheim", form_url=url).status_code == 302
    shop = shop_of(web, shop_id)
    assert len(shop.webhook_secrets) == 1 + MAX_KEPT_WEBHOOK_SECRETS
    refused = post(client, f"{url}/nieuw-geheim", form_url=url)
    assert "al 5 keer vernieuwd" in text(client.get(refused.location))
    assert shop_of(web, shop_id).webhook_secrets == shop.webhook_secrets  # unchanged
    assert 'id="revoke"' in text(client.get(url))
    response = post(client, f"{url}/oude-geheimen-intrekken", form_url=url)
    assert response.status_code == 302 and response.location == url
    page = text(client.get(url))
    assert "alleen het huidige geheim werkt nog" in page
    assert shop_of(web, shop_id).webhook_secrets == shop.webhook_secrets[:1]
    assert 'id="revoke"' not in page


@pytest.mark.parametrize(
    "name",
    ["De Theepot\nBcc: iedereen@example.nl", "Tab\tWinkel", "Winkel\u202egnp.exe", "Nul\x00"],
)
def test_names_with_control_characters_are_refused(
    web: Web, client: FlaskClient, name: str
) -> None:
    response = add_shop(client, name=name)
    assert response.status_code == 400
    assert "stuurtekens" in text(response)
    assert web.services.store.shops.all() == []
