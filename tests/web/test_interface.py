"""Issue 27 on the pages, without a browser: a refused step 1 keeps what was right (sealed,
never echoed), Dutch pages for unknown URLs and for what only an administrator may see,
"Alle" on Meldingen ticks every shop, the test mail, a test order in Voorbeeld, the
payment state of a credit note and of a refused payment, and plurals."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.accounts.passwords import hash_password
from app.states import BookingState, OrderPayment, PaymentState, Role
from app.store.alerts import AlertPref
from app.store.booking_records import Claim, OrderFacts
from app.store.payment_records import PaymentRow
from app.web.kept_secrets import PREFIX
from tests.language import problems
from tests.smtp_server import free_port, smtp_server
from tests.web.helpers import (
    GOOD,
    GOOD_CODE1,
    GOOD_TOKEN,
    PASSWORD,
    Web,
    add_shop,
    csrf,
    login,
    new_shop,
    post,
)


def text(response: Any) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def kept_fields(page: str) -> dict[str, str]:
    return dict(re.findall(rf'name="{PREFIX}([a-z0-9_]+)" value="([^"]+)"', page))


def test_a_refused_step_1_keeps_the_token_that_was_right(web: Web, client: FlaskClient) -> None:
    """e-Boekhouden refuses code 2: the Mijnwebwinkel token (which worked) and code 1 stay,
    sealed; the page never shows them; sending the form again with only code 2 typed
    connects the shop."""
    refused = add_shop(client, eb_code2="verkeerd")
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    kept = kept_fields(page)
    assert set(kept) == {"mww_token"}  # the e-Boekhouden codes were the problem
    for secret in (GOOD_TOKEN, GOOD_CODE1, "verkeerd"):
        assert secret not in page
    assert "(ingevuld, bewaard)" in page and "Wat wel klopte, is bewaard" in text(refused)
    again = post(
        client,
        "/koppelingen/nieuw",
        {**GOOD, "mww_token": "", f"{PREFIX}mww_token": kept["mww_token"]},
    )
    assert again.status_code == 302, text(again)
    (shop,) = web.services.store.shops.all()
    assert shop.credentials.mww_token == GOOD_TOKEN


def test_a_kept_secret_works_only_for_its_user_and_field(web: Web, client: FlaskClient) -> None:
    kept = kept_fields(add_shop(client, eb_code2="verkeerd").get_data(as_text=True))
    sealed = kept["mww_token"]
    other = {**GOOD, "mww_token": "", "eb_code1": "", f"{PREFIX}eb_code1": sealed}
    assert post(client, "/koppelingen/nieuw", other).status_code == 400  # another field
    web.services.store.users.create("ander@example.nl", hash_password(PASSWORD))
    second = web.app.test_client()
    login(second, "ander@example.nl")
    stolen = {**GOOD, "mww_token": "", f"{PREFIX}mww_token": sealed}
    refused = post(second, "/koppelingen/nieuw", stolen)
    assert refused.status_code == 400 and "Vul de API-token" in text(refused)
    forged = {**GOOD, "mww_token": "", f"{PREFIX}mww_token": "gAAAAA-niet-echt"}
    assert post(client, "/koppelingen/nieuw", forged).status_code == 400
    assert web.services.store.shops.all() == []


def test_step_1_says_hieronder_where_the_advice_names_a_page_that_is_not_there_yet() -> None:
    """The clients' advice for refused credentials names the Gegevens page; on the form
    (step 1 has no such page yet, and Gegevens is this form) it says "hieronder"."""
    from app.clients.eboekhouden import errors as soap
    from app.clients.eboekhouden_rest import errors as rest
    from app.clients.mijnwebwinkel import errors as mww
    from app.web.kept_secrets import here

    advice = {
        "mww": mww._auth_help("store", False),
        "eb": soap.ERROR_CODES["INLOG_ONGELDIG"].explanation,
        "eb_api_token": rest.UNKNOWN_ON_LOGIN.explanation,
    }
    assert all("Gegevens van de koppeling" in text for text in advice.values())
    for key, message in here(advice).items():
        assert "Gegevens van de koppeling" not in message and "hieronder" in message, key
        assert problems(message) == []


def test_an_unknown_url_is_a_dutch_page(client: FlaskClient) -> None:
    response = client.get("/deze/pagina/bestaat/niet")
    assert response.status_code == 404 and response.mimetype == "text/html"
    page = text(response)
    assert "<h1>Niet gevonden</h1>" in page and "Deze pagina bestaat niet (meer)" in page
    assert problems(re.sub(r"<[^>]+>", " ", page)) == []
    as_json = client.get("/deze/pagina/bestaat/niet", headers={"Accept": "application/json"})
    assert as_json.status_code == 404 and as_json.is_json  # a client asking for JSON


def test_the_administrators_page_is_a_dutch_not_found_for_others(client: FlaskClient) -> None:
    response = client.get("/admin/rq/")
    assert response.status_code == 404
    page = text(response)
    assert "Deze pagina bestaat niet (meer)" in page and "requested URL" not in page


def test_alle_ticks_every_shop_and_saving_keeps_it(web: Web, client: FlaskClient) -> None:
    shop_id = new_shop(web, client)
    user = web.services.store.users.get_by_email("beheer@example.nl")
    assert user is not None
    web.services.store.alerts.save_prefs(user.id, [AlertPref(None, True, False)])
    page = client.get("/meldingen").get_data(as_text=True)
    assert re.search(rf'id="digest-{shop_id}"[^>]*checked', page)  # covered by "Alle"
    assert not re.search(rf'id="credentials-{shop_id}"[^>]*checked', page)


def test_the_test_mail_reaches_the_user(web: Web, client: FlaskClient) -> None:
    with smtp_server() as (inbox, url):
        _use_smtp(web, url)
        response = post(client, "/meldingen/testmail", form_url="/meldingen")
        assert response.status_code == 302
        page = text(client.get("/meldingen"))
        assert "Er is een testmail verstuurd naar beheer@example.nl" in page
        (message,) = inbox.to("beheer@example.nl")  # sent before the answer came
        assert message["Subject"] == "Testmail van de koppeling"


def test_the_test_mail_says_what_is_wrong(web: Web, client: FlaskClient) -> None:
    page = text(client.get("/meldingen"))
    assert re.search(r"<button type=\"submit\" disabled[^>]*>Stuur een testmail", page)
    response = post(client, "/meldingen/testmail", form_url="/meldingen")
    assert "de beheerder heeft nog geen mailserver ingesteld" in text(client.get(response.location))
    _use_smtp(web, f"smtp://127.0.0.1:{free_port()}")  # nothing listens there
    response = post(client, "/meldingen/testmail", form_url="/meldingen")
    assert "De testmail kon niet worden verstuurd" in text(client.get(response.location))


def _use_smtp(web: Web, url: str) -> None:
    """The settings of a deployment with a mail server (``SMTP_URL``, ``ALERT_FROM``)."""
    from dataclasses import replace

    web.services.settings = replace(web.services.settings, smtp_url=url, alert_from="k@example.nl")


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("T-1004", "is een testbestelling. Mijnwebwinkel geeft testbestellingen niet"),
        ("1009", "Bestelling 1009 bestaat niet (meer) in Mijnwebwinkel."),
    ],
)
def test_voorbeeld_of_an_order_mijnwebwinkel_does_not_give(
    web: Web, client: FlaskClient, number: str, expected: str
) -> None:
    shop_id = new_shop(web, client)
    page = text(client.get(f"/koppelingen/{shop_id}/voorbeeld?bestelling={number}"))
    assert expected in page


def test_voorbeeld_of_a_skipped_order_gives_the_registers_reason(
    web: Web, client: FlaskClient
) -> None:
    shop_id = new_shop(web, client)
    web.services.store.bookings.record_unclaimed(
        shop_id, "1010", state=BookingState.SKIPPED, reason="Bestelling 1010 is een testbestelling."
    )
    page = text(client.get(f"/koppelingen/{shop_id}/voorbeeld?bestelling=1010"))
    assert "Deze bestelling wordt niet geboekt: Bestelling 1010 is een testbestelling." in page
    assert "bestaat niet" not in page


def _invoiced(web: Web, shop_id: int, number: str, kind: str = "order") -> int:
    store = web.services.store
    claim = store.bookings.claim(
        shop_id,
        number,
        OrderFacts(kind=kind, total=Decimal("60.50"), date=dt.date(2026, 11, 2), customer="Jan"),
        lease_seconds=60,
    )
    assert isinstance(claim, Claim)
    store.bookings.mark_booked(
        claim.booking_id,
        shop_id=shop_id,
        mutation_number=600,
        payment_mutation_number=None,
        relation_code="MWW1",
    )
    return claim.booking_id


def test_a_credit_note_waits_for_its_refund_not_for_a_payment(
    web: Web, client: FlaskClient
) -> None:
    shop_id = new_shop(web, client)
    booking_id = _invoiced(web, shop_id, "3001", kind="credit")
    web.services.store.payments.set_order_state(shop_id, "3001", OrderPayment.OPEN)
    page = text(client.get(f"/koppelingen/{shop_id}/boekingen/{booking_id}"))
    assert "Wacht op terugbetaling" in page and "Nog niet (volledig) terugbetaald" in page
    assert "Wacht op betaling" not in page and "geld binnenkomt" not in page
    assert "Jan" in page  # the customer


def test_a_refused_payment_is_not_called_held_back(web: Web, client: FlaskClient) -> None:
    shop_id = new_shop(web, client)
    booking_id = _invoiced(web, shop_id, "3002")
    store = web.services.store
    row = PaymentRow(
        "a", "capture", "ideal", dt.date(2026, 11, 3), Decimal("60.50"), "1100",
        PaymentState.PENDING, order_number="3002",
    )  # fmt: skip
    (payment,) = store.payments.record_family(shop_id, "3002", [row], ())
    claim = store.payments.claim(payment.id, lease_seconds=60)
    assert not isinstance(claim, PaymentState)
    store.payments.mark_failed(
        claim, error_code="MUT_007", error="Unknown ledger", reason="e-Boekhouden weigert."
    )
    store.payments.set_order_state(shop_id, "3002", OrderPayment.HELD)
    page = text(client.get(f"/koppelingen/{shop_id}/boekingen/{booking_id}"))
    assert "Betaling mislukt" in page and "Tegengehouden" not in page


def test_pogingen_counts_the_attempts_it_lists(web: Web, client: FlaskClient) -> None:
    shop_id = new_shop(web, client)
    store = web.services.store
    for _ in range(3):
        store.bookings.record_unclaimed(
            shop_id, "3003", state=BookingState.FAILED, reason="Kies een BTW-code.",
            error_code="mapping", last_error="Kies een BTW-code.",
        )  # fmt: skip
    row = store.bookings.get(shop_id, "3003")
    assert row is not None
    attempts = store.history.attempts(row.id)
    page = text(client.get(f"/koppelingen/{shop_id}/boekingen/{row.id}"))
    assert f"Pogingen ({len(attempts)})" in page
    assert "Pogingen</dt>" not in page  # no second count that could disagree


def test_an_administrator_sees_the_same_words(web: Web) -> None:
    web.services.store.users.create("operator@example.nl", hash_password(PASSWORD), Role.ADMIN)
    admin = web.app.test_client()
    login(admin, "operator@example.nl")
    assert csrf(admin, "/meldingen")
    page = text(admin.get("/meldingen"))
    assert problems(re.sub(r"<(code|script)[^>]*>.*?</\1>|<[^>]+>", " ", page, flags=re.S)) == []
