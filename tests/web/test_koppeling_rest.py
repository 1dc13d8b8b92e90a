""" "Koppeling toevoegen" and "Gegevens" with the e-Boekhouden API token (REST), and switching
a shop between the two e-Boekhouden methods."""

from __future__ import annotations

import html as htmllib
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from app.store.db import shops
from tests.web.helpers import (
    GOOD_API_TOKEN,
    GOOD_CODE1,
    GOOD_CODE2,
    GOOD_TOKEN,
    GOOD_USER,
    Web,
    post,
    shop_of,
)

REST = {
    "name": "De Theepot",
    "mww_token": GOOD_TOKEN,
    "eb_api": "rest",
    "eb_api_token": GOOD_API_TOKEN,
}


def text(response: Any) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def test_the_form_offers_both_methods_with_the_token_first(client: FlaskClient) -> None:
    page = text(client.get("/koppelingen/nieuw"))
    assert "API-token (aanbevolen)" in page and "Gebruikersnaam en beveiligingscodes (SOAP)" in page
    assert 'value="rest" checked' in page
    assert "Beheer > Inrichting > Instellingen > Koppelingen > API/SOAP" in page


def test_a_new_shop_with_an_api_token_is_checked_and_stored_encrypted(
    web: Web, client: FlaskClient
) -> None:
    response = post(client, "/koppelingen/nieuw", REST)
    assert response.status_code == 302, text(response)
    with web.services.engine.connect() as conn:
        (row,) = conn.execute(select(shops)).all()
    assert GOOD_API_TOKEN not in row.credentials
    creds = shop_of(web, row.id).credentials
    assert (creds.eb_api, creds.eb_api_token, creds.eb_username) == ("rest", GOOD_API_TOKEN, "")


def test_a_wrong_or_missing_token_is_refused_and_nothing_is_saved(
    web: Web, client: FlaskClient
) -> None:
    response = post(client, "/koppelingen/nieuw", {**REST, "eb_api_token": "verlopen"})
    assert response.status_code == 400 and "Het API-token is verlopen." in text(response)
    response = post(client, "/koppelingen/nieuw", {**REST, "eb_api_token": ""})
    assert response.status_code == 400 and "Vul het API-token" in text(response)
    assert 'value="rest" checked' in text(response)
    assert web.services.store.shops.all() == []


def test_soap_fields_are_not_required_with_a_token_and_vice_versa(client: FlaskClient) -> None:
    soap = {"name": "X", "mww_token": GOOD_TOKEN, "eb_api": "soap", "eb_api_token": GOOD_API_TOKEN}
    response = post(client, "/koppelingen/nieuw", soap)
    assert response.status_code == 400 and "Vul uw gebruikersnaam" in text(response)
    response = post(client, "/koppelingen/nieuw", {**REST, "eb_api": "fax"})
    assert response.status_code == 400 and "Kies hoe de koppeling" in text(response)


def test_gegevens_switches_a_shop_from_soap_to_rest_and_back(web: Web, client: FlaskClient) -> None:
    soap = {
        "name": "De Theepot",
        "mww_token": GOOD_TOKEN,
        "eb_api": "soap",
        "eb_username": GOOD_USER,
        "eb_code1": GOOD_CODE1,
        "eb_code2": GOOD_CODE2,
    }
    response = post(client, "/koppelingen/nieuw", soap)
    shop_id = int(response.location.split("/")[-2])
    url = f"/koppelingen/{shop_id}/gegevens"
    assert 'value="soap" checked' in text(client.get(url))
    response = post(
        client, url, {"name": "De Theepot", "eb_api": "rest", "eb_api_token": GOOD_API_TOKEN}
    )
    assert response.status_code == 302, text(response)
    creds = shop_of(web, shop_id).credentials
    assert creds.eb_api == "rest" and creds.eb_code1 == GOOD_CODE1  # SOAP codes kept
    page = text(client.get(url))
    assert 'value="rest" checked' in page and GOOD_API_TOKEN not in page
    response = post(client, url, {"name": "De Theepot", "eb_api": "rest"})  # token kept
    assert response.status_code == 302 and shop_of(web, shop_id).credentials.eb_api == "rest"
    response = post(client, url, {"name": "De Theepot", "eb_api": "soap", "eb_username": GOOD_USER})
    assert response.status_code == 302, text(response)
    creds = shop_of(web, shop_id).credentials
    assert (creds.eb_api, creds.eb_api_token) == ("soap", "")


def test_a_rest_shop_is_offered_only_the_btw_codes_rest_knows(client: FlaskClient) -> None:
    rest_page = text(client.get(post(client, "/koppelingen/nieuw", REST).location))
    soap = {
        "name": "Oud",
        "mww_token": GOOD_TOKEN,
        "eb_api": "soap",
        "eb_username": GOOD_USER,
        "eb_code1": GOOD_CODE1,
        "eb_code2": GOOD_CODE2,
    }
    soap_page = text(client.get(post(client, "/koppelingen/nieuw", soap).location))
    assert 'value="HOOG_VERK_21"' in rest_page and 'value="LAAG_VERK"' in rest_page
    assert 'value="HOOG_VERK"' not in rest_page
    assert 'value="HOOG_VERK"' in soap_page
