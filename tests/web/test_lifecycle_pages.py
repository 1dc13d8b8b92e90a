"""The pages of issue 29 for an owner: the start date and checklist at install, the warning
for two shops under the same invoice numbers, pause and resume, remove (asked first, the
register kept and readable), "Alles opnieuw proberen" per reason, and saved credentials
that heal what their refusal held."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient

from app.states import BookingState, FailureCause, ShopStatus
from tests.web.helpers import Web, add_shop, new_shop, post, shop_of, submit

HELD = "Niet geboekt: e-Boekhouden weigert de inloggegevens."


def installed(web: Web, client: FlaskClient, **changes: str) -> int:
    shop_id = new_shop(web, client)
    response = submit(client, shop_id, "install", **changes)
    assert response.status_code == 302, response.get_data(as_text=True)
    return shop_id


def test_install_asks_the_start_date_and_shows_the_checklist(web: Web, client: FlaskClient) -> None:
    shop_id = new_shop(web, client)
    shop = shop_of(web, shop_id)
    assert shop.book_from is not None  # the moment of connection
    page = client.get(f"/koppelingen/{shop_id}/instellingen").get_data(as_text=True)
    assert 'id="checklist"' in page and "Orders automatisch importeren" in page
    local = shop.book_from.astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%d-%m-%Y %H:%M")
    assert f'name="book_from" id="book_from" size="18" maxlength="20" value="{local}"' in page
    bad = submit(client, shop_id, "install", book_from="31-31-2026")
    assert bad.status_code == 400 and "Vul de startdatum in als dd-mm-jjjj" in bad.get_data(
        as_text=True
    )
    assert shop_of(web, shop_id).status == ShopStatus.DRAFT  # nothing installed
    empty = submit(client, shop_id, "install", book_from=" ")
    assert empty.status_code == 400 and "vanaf wanneer" in empty.get_data(as_text=True)
    done = submit(client, shop_id, "install", book_from="01-11-2026 09:30")
    assert done.status_code == 302
    shop = shop_of(web, shop_id)
    assert shop.status == ShopStatus.ACTIVE
    assert shop.book_from == dt.datetime(2026, 11, 1, 8, 30, tzinfo=dt.UTC)  # CET
    overview = client.get(f"/koppelingen/{shop_id}").get_data(as_text=True)
    assert "geplaatst vanaf 01-11-2026 09:30" in overview  # the flash
    assert "Boekt bestellingen vanaf 01-11-2026 09:30" in overview
    page = client.get(f"/koppelingen/{shop_id}/instellingen").get_data(as_text=True)
    assert 'id="checklist"' not in page  # installed: no checklist any more


def test_two_shops_on_one_administration_with_one_invoice_format_are_warned(
    web: Web, client: FlaskClient
) -> None:
    first = installed(web, client)
    second = int(add_shop(client, name="De Tweede").location.split("/")[-2])
    page = client.get(f"/koppelingen/{second}/instellingen").get_data(as_text=True)
    assert 'id="same-invoice-numbers"' in page and "De Theepot" in page
    response = submit(client, second, "install")
    assert response.status_code == 302
    overview = client.get(response.location).get_data(as_text=True)
    assert "hetzelfde factuurnummer" in overview  # the flash after installing
    submit(client, second, "save", invoice_format="W2-{number}")
    page = client.get(f"/koppelingen/{second}/instellingen").get_data(as_text=True)
    assert 'id="same-invoice-numbers"' not in page
    assert 'id="same-invoice-numbers"' not in client.get(
        f"/koppelingen/{first}/instellingen"
    ).get_data(as_text=True)


def test_pause_and_resume_from_the_overview(web: Web, client: FlaskClient) -> None:
    shop_id = installed(web, client)
    url = f"/koppelingen/{shop_id}"
    assert "Pauzeren" in client.get(url).get_data(as_text=True)
    post(client, f"{url}/pauzeren", form_url=url)
    page = client.get(url).get_data(as_text=True)
    assert shop_of(web, shop_id).status == ShopStatus.PAUSED
    assert "gepauzeerd" in page and "Hervatten" in page
    post(client, f"{url}/hervatten", form_url=url)
    assert shop_of(web, shop_id).status == ShopStatus.ACTIVE
    assert any(j.startswith(f"reconcile-{shop_id}-poll") for j in web.services.queue.get_job_ids())


def test_remove_asks_first_and_keeps_the_register_readable(web: Web, client: FlaskClient) -> None:
    shop_id = installed(web, client)
    web.services.store.bookings.record_unclaimed(
        shop_id, "1001", state=BookingState.FAILED, reason="Grootboek ontbreekt."
    )
    url = f"/koppelingen/{shop_id}/verwijderen"
    assert "kan niet ongedaan worden gemaakt" in client.get(url).get_data(as_text=True)
    unconfirmed = post(client, url, {})
    assert unconfirmed.status_code == 400 and "Vink aan" in unconfirmed.get_data(as_text=True)
    assert shop_of(web, shop_id).status == ShopStatus.ACTIVE
    done = post(client, url, {"bevestig": "ja"})
    assert done.status_code == 302
    shop = shop_of(web, shop_id)
    assert shop.status == ShopStatus.REMOVED and shop.credentials.mww_token == ""
    index = client.get("/").get_data(as_text=True)
    assert 'id="removed-shops"' in index and "De Theepot" in index
    overview = client.get(f"/koppelingen/{shop_id}").get_data(as_text=True)
    assert "is verwijderd" in overview and "1001" in overview  # the register stays
    assert "Opnieuw proberen" not in overview and "Instellingen</a>" not in overview
    for page in ("instellingen", "gegevens", "webhook", "voorbeeld", "controle", "gebruikers"):
        assert client.get(f"/koppelingen/{shop_id}/{page}").status_code == 404, page


def test_retry_everything_of_one_reason_from_the_overview(web: Web, client: FlaskClient) -> None:
    shop_id = installed(web, client)
    for number in ("1001", "1002"):
        web.services.store.bookings.record_unclaimed(
            shop_id,
            number,
            state=BookingState.FAILED,
            reason=f"Bestelling {number}: geen grootboek.",
        )
    web.services.store.bookings.record_unclaimed(
        shop_id, "1003", state=BookingState.FAILED, reason="Iets anders."
    )
    url = f"/koppelingen/{shop_id}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="failed-groups"' in page and "Bestelling …: geen grootboek." in page
    assert "Deze 2 opnieuw proberen" in page and "Alles opnieuw proberen (3)" in page
    key = re.search(r'name="reden" value="([0-9a-f]+)">\s*<button[^>]*>Deze 2', page)
    assert key
    response = post(client, f"{url}/opnieuw", {"reden": key.group(1)}, form_url=url)
    assert response.status_code == 302
    states = web.services.store.bookings.states_of(shop_id, ["1001", "1002", "1003"])
    assert states == {"1001": "retrying", "1002": "retrying", "1003": "failed"}
    follow = client.get(response.location).get_data(as_text=True)
    assert "2 mislukte boekingen staan weer in de wachtrij" in follow


def test_saved_credentials_send_the_held_orders_again(web: Web, client: FlaskClient) -> None:
    shop_id = installed(web, client)
    web.services.store.shops.mark_auth_failed(shop_id, HELD, "eboekhouden")
    web.services.store.bookings.record_unclaimed(
        shop_id, "1001", state=BookingState.FAILED, reason=HELD, cause=FailureCause.SYSTEM
    )
    overview = client.get(f"/koppelingen/{shop_id}").get_data(as_text=True)
    assert "vanzelf geboekt" in overview and "niets opnieuw te proberen" in overview
    assert "Alles opnieuw proberen" not in overview  # nothing to click while refused
    url = f"/koppelingen/{shop_id}/gegevens"
    response = post(client, url, {"name": "De Theepot", "eb_username": "winkelier"})
    assert response.status_code == 302
    assert shop_of(web, shop_id).status == ShopStatus.ACTIVE
    row = web.services.store.bookings.get(shop_id, "1001")
    assert row is not None and row.state == BookingState.RETRYING
    assert "1 bestelling wordt nu alsnog geboekt" in client.get(response.location).get_data(
        as_text=True
    )


def test_the_preview_and_inhalen_say_an_order_is_before_the_start(
    web: Web, client: FlaskClient
) -> None:
    from sandbox.order_factory import make_order

    shop_id = installed(web, client, book_from="01-11-2026 00:00")
    web.add_order(make_order(1001, date=dt.date(2026, 10, 30)))
    page = client.get(f"/koppelingen/{shop_id}/voorbeeld?bestelling=1001").get_data(as_text=True)
    assert 'id="preview-before-start"' in page and "vóór de startdatum" in page
    inhalen = client.get(f"/koppelingen/{shop_id}/inhalen").get_data(as_text=True)
    assert "01-11-2026 00:00" in inhalen and "alleen hier" in inhalen
