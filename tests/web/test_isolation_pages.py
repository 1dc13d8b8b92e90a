"""A shop that cannot be read never takes a page down (issue 26): the probe got a 500 on
every user's home page and on Meldingen for one shop stored under another
``ENCRYPTION_KEY``. Now the list shows it as unreadable (with what to do, for the
administrator a banner), its own pages say so, and everything else works."""

from __future__ import annotations

from flask.testing import FlaskClient

from app.crypto import Vault, generate_key
from app.states import Role, ShopStatus
from app.store.shops import Credentials, ShopStore
from tests.web.helpers import GOOD_TOKEN, Web, new_shop
from tests.web.test_owners import ADMIN, OTHER, second_client


def unreadable_shop(web: Web, owner_email: str | None = None) -> int:
    foreign = ShopStore(web.services.engine, Vault(generate_key()))
    shop_id, _ = foreign.register(
        name="Oude sleutel",
        credentials=Credentials(GOOD_TOKEN, "winkelier", "a", "b"),
        status=ShopStatus.ACTIVE,
    )
    if owner_email:
        user = web.services.store.users.get_by_email(owner_email)
        assert user is not None
        web.services.store.users.add_owner(shop_id, user.id)
    return shop_id


def test_every_page_goes_on_and_the_administrator_sees_a_banner(
    web: Web, client: FlaskClient
) -> None:
    good = new_shop(web, client)
    bad = unreadable_shop(web, "beheer@example.nl")
    admin = second_client(web, ADMIN, Role.ADMIN)
    page = admin.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="unreadable"' in html and "1 koppeling kan" in html
    assert "keys rotate" in html and "Oude sleutel" in html
    assert f"/koppelingen/{good}" in html  # the readable shop as ever
    assert admin.get("/meldingen").status_code == 200

    owner_page = client.get("/")  # the owner of both: the shop shows as unreadable
    assert owner_page.status_code == 200
    owner_html = owner_page.get_data(as_text=True)
    assert "Niet leesbaar" in owner_html and "neem contact" in owner_html
    assert client.get("/meldingen").status_code == 200
    assert client.get(f"/koppelingen/{good}").status_code == 200

    broken = client.get(f"/koppelingen/{bad}")  # its own page says what is wrong
    assert broken.status_code == 500
    assert "ENCRYPTION_KEY" in broken.get_data(as_text=True)

    other = second_client(web, OTHER)  # someone else: no banner, no trace of the shop
    other_html = other.get("/").get_data(as_text=True)
    assert "Oude sleutel" not in other_html and 'id="unreadable"' not in other_html
    assert other.get(f"/koppelingen/{bad}").status_code == 404
