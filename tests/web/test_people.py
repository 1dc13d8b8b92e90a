"""People: an owner invites a person by e-mail from Gebruikers (a one-time link that
expires, mailed by the alert SMTP or shown when SMTP is off; the same answer whether the
address has an account or not); roles per shop (a meekijker reads, and everything else
answers 404); and everyone's own password on Account."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from app.states import BookingState, ShopRole
from app.store.db import invitations
from app.store.engine import transaction
from tests.smtp_server import Inbox, smtp_server
from tests.web.helpers import EMAIL, PASSWORD, Web, csrf, login, new_shop, password_hash, post

INVITEE = "boekhouder@example.nl"
NEW_PASSWORD = "een-ander-wachtwoord"


def invite(client: FlaskClient, shop_id: int, email: str, role: str = "viewer") -> str:
    """Invite with SMTP off: the page shows the link; returns it (a path)."""
    url = f"/koppelingen/{shop_id}/gebruikers"
    page = post(client, url, {"email": email, "role": role})
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    assert "geef deze link zelf door" in html
    match = re.search(r'value="https://koppeling\.example\.nl(/uitnodiging/[^"]+)"', html)
    assert match, "the link is on the page"
    return match.group(1)


def accept_as_new(web: Web, link: str, password: str = PASSWORD) -> FlaskClient:
    client = web.app.test_client()
    page = client.get(link)
    assert page.status_code == 200 and "Ik heb nog geen account" in page.get_data(as_text=True)
    done = client.post(
        link,
        data={
            "action": "new",
            "password": password,
            "again": password,
            "csrf_token": csrf(client, link),
        },
    )
    assert done.status_code == 302, done.get_data(as_text=True)
    return client


def test_an_invited_person_chooses_a_password_and_sees_the_shop_read_only(
    web: Web, client: FlaskClient
) -> None:
    shop_id = new_shop(web, client)
    web.services.store.bookings.record_unclaimed(
        shop_id, "1001", state=BookingState.FAILED, reason="Grootboek ontbreekt."
    )
    link = invite(client, shop_id, INVITEE.upper())
    viewer = accept_as_new(web, link)
    user = web.services.store.users.get_by_email(INVITEE)
    assert user is not None and web.services.store.users.role_of(user.id, shop_id) == "viewer"
    [row], _ = web.services.store.bookings.page(shop_id)
    readable = [
        f"/koppelingen/{shop_id}",
        f"/koppelingen/{shop_id}/boekingen/{row.id}",
        f"/koppelingen/{shop_id}/voorbeeld",
    ]
    for url in readable:
        assert viewer.get(url).status_code == 200, url
    # Controle and its downloads (a period that does not parse: answered without a call).
    assert viewer.get(f"/koppelingen/{shop_id}/controle?periode=x").status_code == 400
    download = viewer.get(f"/koppelingen/{shop_id}/controle/download?periode=x")
    assert download.status_code == 302 and "/controle" in download.location
    overview = viewer.get(readable[0]).get_data(as_text=True)
    assert "Opnieuw proberen" not in overview and "Pauzeren" not in overview
    assert "Instellingen</a>" not in overview and "Gegevens</a>" not in overview
    for page in ("gegevens", "webhook", "instellingen", "gebruikers", "inhalen", "verwijderen"):
        assert viewer.get(f"/koppelingen/{shop_id}/{page}").status_code == 404, page
    token = csrf(viewer, readable[0])
    for action in (
        f"/koppelingen/{shop_id}/boekingen/{row.id}/opnieuw",
        f"/koppelingen/{shop_id}/opnieuw",
        f"/koppelingen/{shop_id}/pauzeren",
        f"/koppelingen/{shop_id}/webhook/nieuw-geheim",
        f"/koppelingen/{shop_id}/gebruikers",
    ):
        assert viewer.post(action, data={"csrf_token": token}).status_code == 404, action
    assert web.services.store.bookings.get(shop_id, "1001").state == BookingState.FAILED  # type: ignore[union-attr]
    # The link worked once.
    assert web.app.test_client().get(link).status_code == 404


def test_the_answer_is_the_same_whether_the_address_has_an_account_or_not(
    web: Web, client: FlaskClient
) -> None:
    shop_id = new_shop(web, client)
    web.services.store.users.create(INVITEE, password_hash())
    url = f"/koppelingen/{shop_id}/gebruikers"
    pages = []
    for email in (INVITEE, "onbekend@example.nl"):
        page = post(client, url, {"email": email, "role": "owner"}).get_data(as_text=True)
        pages.append(
            re.sub(r"[\w.-]+@example\.nl|/uitnodiging/[\w-]+|\d\d-\d\d-\d{4} \d\d:\d\d", "…", page)
        )
    csrf_free = [re.sub(r'name="csrf_token" value="[^"]+"', "", p) for p in pages]
    # The pending list names both; the answers themselves do not differ.
    answer = [p.split('id="invitation-link"')[1].split("</section>")[0] for p in csrf_free]
    assert answer[0] == answer[1]


def test_an_existing_account_logs_in_to_accept_and_becomes_an_owner(
    web: Web, client: FlaskClient
) -> None:
    shop_id = new_shop(web, client)
    web.services.store.users.create(INVITEE, password_hash())
    link = invite(client, shop_id, INVITEE, role="owner")
    other = web.app.test_client()
    wrong = other.post(
        link,
        data={
            "action": "login",
            "login_password": "fout-fout-fout",
            "csrf_token": csrf(other, link),
        },
    )
    assert wrong.status_code == 401 and "Onjuist" in wrong.get_data(as_text=True)
    # Choosing a password for an address that has an account is refused (no takeover).
    taken = other.post(
        link,
        data={
            "action": "new",
            "password": NEW_PASSWORD,
            "again": NEW_PASSWORD,
            "csrf_token": csrf(other, link),
        },
    )
    assert taken.status_code == 400 and "al een account" in taken.get_data(as_text=True)
    ok = other.post(
        link, data={"action": "login", "login_password": PASSWORD, "csrf_token": csrf(other, link)}
    )
    assert ok.status_code == 302 and ok.location.endswith(f"/koppelingen/{shop_id}")
    assert other.get(f"/koppelingen/{shop_id}/webhook").status_code == 200  # an owner


def test_a_logged_in_invitee_accepts_with_one_click(web: Web, client: FlaskClient) -> None:
    shop_id = new_shop(web, client)
    web.services.store.users.create(INVITEE, password_hash())
    link = invite(client, shop_id, INVITEE)
    mine = web.app.test_client()
    assert login(mine, INVITEE).status_code == 302
    page = mine.get(link).get_data(as_text=True)
    assert "Uitnodiging aanvaarden" in page
    done = mine.post(link, data={"action": "accept", "csrf_token": csrf(mine, link)})
    assert done.status_code == 302
    # Someone else logged in cannot accept it.
    link2 = invite(client, shop_id, "derde@example.nl")
    assert "deze uitnodiging is voor" in mine.get(link2).get_data(as_text=True)


def test_an_expired_or_revoked_link_does_nothing(web: Web, client: FlaskClient) -> None:
    shop_id = new_shop(web, client)
    link = invite(client, shop_id, INVITEE)
    with transaction(web.services.engine) as conn:
        conn.execute(
            update(invitations).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    expired = web.app.test_client().get(link)
    assert expired.status_code == 404 and "verlopen" in expired.get_data(as_text=True)
    link = invite(client, shop_id, INVITEE)  # a new one replaces it
    [pending] = web.services.store.invitations.pending(shop_id)
    url = f"/koppelingen/{shop_id}/gebruikers"
    post(client, f"/koppelingen/{shop_id}/uitnodigingen/{pending.id}/intrekken", form_url=url)
    assert web.app.test_client().get(link).status_code == 404
    assert web.services.store.users.get_by_email(INVITEE) is None


@pytest.fixture
def mailing_web(web: Web) -> Iterator[tuple[Web, Inbox]]:
    with smtp_server() as (inbox, url):
        web.services.settings = dataclasses.replace(
            web.services.settings, smtp_url=url, alert_from="koppeling@example.nl"
        )
        yield web, inbox


def test_with_smtp_the_invitation_is_mailed_not_shown(
    mailing_web: tuple[Web, Inbox],
) -> None:
    web, inbox = mailing_web
    client = web.client
    assert login(client).status_code == 302
    shop_id = new_shop(web, client)
    url = f"/koppelingen/{shop_id}/gebruikers"
    response = post(client, url, {"email": INVITEE, "role": "viewer"})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "uitnodiging gemaild" in page and "/uitnodiging/" not in page  # not shown
    [message] = inbox.to(INVITEE)
    body = message.get_payload(decode=True).decode()
    assert "De Theepot" in body and "meekijker" in body and EMAIL in body
    link = re.search(r"https://koppeling\.example\.nl(/uitnodiging/\S+)", body)
    assert link
    accept_as_new(web, link.group(1))


def test_the_last_owner_stays_and_roles_change(web: Web, client: FlaskClient) -> None:
    shop_id = new_shop(web, client)
    me = web.services.store.users.get_by_email(EMAIL)
    assert me is not None
    url = f"/koppelingen/{shop_id}/gebruikers"
    post(client, f"{url}/{me.id}/rol", {"role": "viewer"}, form_url=url)
    assert web.services.store.users.role_of(me.id, shop_id) == ShopRole.OWNER
    assert "minstens één eigenaar" in client.get(url).get_data(as_text=True)
    accept_as_new(web, invite(client, shop_id, INVITEE, role="owner"))
    other = web.services.store.users.get_by_email(INVITEE)
    assert other is not None
    post(client, f"{url}/{other.id}/rol", {"role": "viewer"}, form_url=url)
    assert web.services.store.users.role_of(other.id, shop_id) == ShopRole.VIEWER
    post(client, f"{url}/{me.id}/verwijderen", form_url=url)
    assert client.get(f"/koppelingen/{shop_id}").status_code == 200  # still the last owner


def test_an_invitation_needs_a_valid_address(web: Web, client: FlaskClient) -> None:
    shop_id = new_shop(web, client)
    url = f"/koppelingen/{shop_id}/gebruikers"
    bad = post(client, url, {"email": "geen-adres", "role": "viewer"})
    assert bad.status_code == 400 and "geldig e-mailadres" in bad.get_data(as_text=True)
    assert web.services.store.invitations.pending(shop_id) == []


def test_everyone_changes_their_own_password_and_other_sessions_end(
    web: Web, client: FlaskClient
) -> None:
    elsewhere = web.app.test_client()
    assert login(elsewhere).status_code == 302
    url = "/account"
    wrong = post(
        client, url, {"current": "fout-fout-fout", "password": NEW_PASSWORD, "again": NEW_PASSWORD}
    )
    assert wrong.status_code == 400 and "huidige wachtwoord klopt niet" in wrong.get_data(
        as_text=True
    )
    short = post(client, url, {"current": PASSWORD, "password": "kort", "again": "kort"})
    assert short.status_code == 400 and "minstens 12" in short.get_data(as_text=True)
    differ = post(client, url, {"current": PASSWORD, "password": NEW_PASSWORD, "again": "x" * 12})
    assert differ.status_code == 400 and "niet gelijk" in differ.get_data(as_text=True)
    done = post(client, url, {"current": PASSWORD, "password": NEW_PASSWORD, "again": NEW_PASSWORD})
    assert done.status_code == 302
    assert client.get("/").status_code == 200  # this session goes on
    assert elsewhere.get("/").status_code == 302  # the other one ended
    fresh = web.app.test_client()
    assert login(fresh, EMAIL, PASSWORD).status_code == 401
    assert login(fresh, EMAIL, NEW_PASSWORD).status_code == 302
