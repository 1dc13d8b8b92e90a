"""Owners see only their own shops; administrators see every shop and the RQ dashboard.

A second user tries every route of the first user's shop and gets 404 — the same answer
as for a shop that does not exist."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from app.states import BookingState, Role
from tests.web.helpers import EMAIL, Web, csrf, login, new_shop, password_hash, post

OTHER = "ander@example.nl"
ADMIN = "operator@example.nl"
SHOP_PAGES = [
    "/koppelingen/{id}",
    "/koppelingen/{id}/instellingen",
    "/koppelingen/{id}/webhook",
    "/koppelingen/{id}/gegevens",
    "/koppelingen/{id}/voorbeeld",
    "/koppelingen/{id}/voorbeeld?bestelling=1001",
    "/koppelingen/{id}/boekingen/{booking}",
    "/koppelingen/{id}/gebruikers",
]
SHOP_POSTS = [
    "/koppelingen/{id}/instellingen",
    "/koppelingen/{id}/webhook/nieuw-geheim",
    "/koppelingen/{id}/webhook/oude-geheimen-intrekken",
    "/koppelingen/{id}/boekingen/{booking}/opnieuw",
    "/koppelingen/{id}/gegevens",
    "/koppelingen/{id}/gebruikers",
    "/koppelingen/{id}/gebruikers/1/verwijderen",
]


def second_client(web: Web, email: str = OTHER, role: Role = Role.OWNER) -> FlaskClient:
    web.services.store.users.create(email, password_hash(), role)
    client = web.app.test_client()
    assert login(client, email).status_code == 302
    return client


def owned_shop_with_booking(web: Web, client: FlaskClient) -> tuple[int, int]:
    shop_id = new_shop(web, client)
    web.services.store.bookings.record_unclaimed(
        shop_id, "1001", state=BookingState.FAILED, reason="Grootboek ontbreekt."
    )
    rows, _ = web.services.store.bookings.page(shop_id, limit=1, offset=0)
    return shop_id, rows[0].id


@pytest.mark.parametrize("template", SHOP_PAGES)
def test_another_users_shop_pages_answer_404(web: Web, client: FlaskClient, template: str) -> None:
    shop_id, booking_id = owned_shop_with_booking(web, client)
    url = template.format(id=shop_id, booking=booking_id)
    assert client.get(url).status_code == 200  # the owner sees it
    other = second_client(web)
    response = other.get(url)
    assert response.status_code == 404
    assert "bestaat niet" in response.get_data(as_text=True)


@pytest.mark.parametrize("template", SHOP_POSTS)
def test_another_users_shop_forms_answer_404_and_change_nothing(
    web: Web, client: FlaskClient, template: str
) -> None:
    shop_id, booking_id = owned_shop_with_booking(web, client)
    before = web.services.load_shop(shop_id)
    other = second_client(web)
    token = csrf(other, "/")
    response = other.post(
        template.format(id=shop_id, booking=booking_id),
        data={"csrf_token": token, "email": OTHER, "name": "Overgenomen"},
    )
    assert response.status_code == 404
    assert web.services.load_shop(shop_id) == before
    assert not web.services.store.users.owns(
        web.services.store.users.get_by_email(OTHER).id, shop_id
    )  # type: ignore[union-attr]


def test_the_list_shows_only_own_shops_and_admins_see_all(web: Web, client: FlaskClient) -> None:
    shop_id = new_shop(web, client)
    name = web.services.load_shop(shop_id).name  # type: ignore[union-attr]
    assert name in client.get("/").get_data(as_text=True)
    assert name not in second_client(web).get("/").get_data(as_text=True)
    admin = second_client(web, ADMIN, Role.ADMIN)
    assert name in admin.get("/").get_data(as_text=True)
    assert admin.get(f"/koppelingen/{shop_id}/webhook").status_code == 200


def test_new_shops_belong_to_their_creator(web: Web, client: FlaskClient) -> None:
    shop_id = new_shop(web, client)
    owner = web.services.store.users.get_by_email(EMAIL)
    assert owner and web.services.store.users.shop_ids(owner.id) == {shop_id}


def test_an_owner_gives_another_account_access_and_takes_it_back(
    web: Web, client: FlaskClient
) -> None:
    """By invitation (tests/web/test_people.py has the rest): the answer never says whether
    an address has an account; the account holder accepts the link."""
    shop_id = new_shop(web, client)
    other = second_client(web)
    url = f"/koppelingen/{shop_id}/gebruikers"
    unknown = post(client, url, {"email": "niemand@example.nl", "role": "owner"})
    assert unknown.status_code == 200 and "geen (actief) account" not in unknown.get_data(
        as_text=True
    )
    page = post(client, url, {"email": OTHER.upper(), "role": "owner"}).get_data(as_text=True)
    link = re.search(r'value="https://koppeling\.example\.nl(/uitnodiging/[^"]+)"', page)
    assert link
    assert other.get(f"/koppelingen/{shop_id}/webhook").status_code == 404  # not yet
    accepted = other.post(link.group(1), data={"action": "accept", "csrf_token": csrf(other, "/")})
    assert accepted.status_code == 302
    assert other.get(f"/koppelingen/{shop_id}/webhook").status_code == 200
    other_id = web.services.store.users.get_by_email(OTHER).id  # type: ignore[union-attr]
    response = post(client, f"{url}/{other_id}/verwijderen", form_url=url)
    assert response.status_code == 302
    assert other.get(f"/koppelingen/{shop_id}/webhook").status_code == 404


def test_the_last_owner_cannot_remove_themselves(web: Web, client: FlaskClient) -> None:
    shop_id = new_shop(web, client)
    me = web.services.store.users.get_by_email(EMAIL)
    url = f"/koppelingen/{shop_id}/gebruikers"
    post(client, f"{url}/{me.id}/verwijderen", form_url=url)  # type: ignore[union-attr]
    assert client.get(f"/koppelingen/{shop_id}").status_code == 200


@pytest.mark.parametrize("url", ["/admin/rq/", "/admin/rq/0/data/queues.json"])
def test_the_rq_dashboard_is_for_administrators_only(
    web: Web, client: FlaskClient, url: str
) -> None:
    assert client.get(url).status_code == 404  # an owner
    assert second_client(web, ADMIN, Role.ADMIN).get(url).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/koppelingen/99999999999999999999999",
        "/koppelingen/18446744073709551617/webhook",
        "/koppelingen/1/boekingen/99999999999999999999",
    ],
)
def test_ids_beyond_the_integer_range_are_not_found(client: FlaskClient, url: str) -> None:
    assert client.get(url).status_code == 404


def test_every_shop_route_answers_404_to_another_user(web: Web, client: FlaskClient) -> None:
    """Derived from the URL map, so a route added later is covered without a list: every
    rule with a ``shop_id``, each of its methods, answers 404 to a user who does not own
    the shop, and changes nothing."""
    shop_id, booking_id = owned_shop_with_booking(web, client)
    before = web.services.load_shop(shop_id)
    other = second_client(web)
    token = csrf(other, "/")
    checked = 0
    for rule in web.app.url_map.iter_rules():
        if "shop_id" not in rule.arguments:
            continue
        values = {name: 1 for name in rule.arguments}
        values.update(shop_id=shop_id)
        if "booking_id" in rule.arguments:
            values["booking_id"] = booking_id
        url = rule.build(values, append_unknown=False)[1]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": token} if method != "GET" else None
            response = other.open(url, method=method, data=data)
            assert response.status_code == 404, (method, url, response.status_code)
            checked += 1
    assert checked >= len(SHOP_PAGES) + len(SHOP_POSTS)
    assert web.services.load_shop(shop_id) == before
