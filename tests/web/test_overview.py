""" "Overzicht": counts, last run, the bookings table (filter, search, pages), a booking's
details, "Opnieuw proberen" and "Voorbeeld"; plus the ledger queries behind them."""

from __future__ import annotations

import datetime as dt
import html as htmllib
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.crypto import Vault, generate_key
from app.states import BookingState, RunMode, RunOutcome
from app.store import Store
from app.store.booking_records import Claim, OrderFacts
from app.store.engine import engine_for
from app.store.runs import RunCounts
from app.store.shops import Credentials
from sandbox.order_factory import make_order
from tests.helpers import Backend, booking_jobs
from tests.web.helpers import Web, new_shop, post


def text(response: Any) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def booked(store: Store, shop_id: int, number: str, mutation: int) -> None:
    claim = store.bookings.claim(
        shop_id,
        number,
        OrderFacts(total=Decimal("12.10"), date=dt.date(2025, 3, 14)),
        lease_seconds=60,
    )
    assert isinstance(claim, Claim)
    store.bookings.mark_booked(
        claim.booking_id,
        shop_id=shop_id,
        mutation_number=mutation,
        payment_mutation_number=None,
        relation_code="MWW1",
    )


def failed(store: Store, shop_id: int, number: str) -> int:
    store.bookings.record_unclaimed(
        shop_id,
        number,
        state=BookingState.FAILED,
        error_code="GROOTBOEK_ONBEKEND",
        last_error="GROOTBOEK_ONBEKEND: Grootboekrekening '8999' bestaat niet",
        reason="Grootboekrekening 8999 bestaat niet in e-Boekhouden. Kies een andere bij "
        "Instellingen en probeer het opnieuw.",
    )
    row = store.bookings.get(shop_id, number)
    assert row is not None
    return row.id


@pytest.fixture
def shop_id(web: Web, client: FlaskClient) -> int:
    shop_id = new_shop(web, client)
    store = web.services.store
    booked(store, shop_id, "1001", 501)
    booked(store, shop_id, "1002", 502)
    failed(store, shop_id, "1003")
    store.bookings.record_unclaimed(
        shop_id,
        "T-1004",
        state=BookingState.SKIPPED,
        reason="Bestelling T-1004 is een testbestelling.",
    )
    run = store.runs.start(shop_id, RunMode.HOURLY, None, None)
    store.runs.finish(
        run,
        outcome=RunOutcome.OK,
        error=None,
        duration_ms=120,
        counts=RunCounts(seen=4, already_booked=2, enqueued=1, skipped=1),
    )
    return shop_id


def test_overview_shows_counts_last_run_and_bookings(client: FlaskClient, shop_id: int) -> None:
    page = text(client.get(f"/koppelingen/{shop_id}"))
    counts = {
        key: page.split(f'id="count-{key}"', 1)[1].split("</span>", 1)[0]
        for key in ("geboekt", "mislukt", "wachtend", "overgeslagen")
    }
    assert {k: v.rsplit(">", 1)[1] for k, v in counts.items()} == {
        "geboekt": "2",
        "mislukt": "1",
        "wachtend": "0",
        "overgeslagen": "1",
    }
    assert "uurlijkse controle" in page and "Gelukt" in page and "4 bestellingen bekeken" in page
    assert "€ 12,10" in page and "14-03-2025" in page and ">501<" in page
    assert "Grootboekrekening 8999 bestaat niet in e-Boekhouden" in page
    assert page.count("Opnieuw proberen") == 1  # only the failed row


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("status=mislukt", ["1003"], ["1001", "T-1004"]),
        ("status=geboekt", ["1001", "1002"], ["1003"]),
        ("status=overgeslagen", ["T-1004"], ["1001"]),
        ("zoek=002", ["1002"], ["1001", "1003"]),
        ("zoek=%25", [], ["1001"]),  # a literal %, not a wildcard
        ("status=onzin", ["1001", "1003"], []),
    ],
)
def test_filters(
    client: FlaskClient, shop_id: int, query: str, shown: list[str], hidden: list[str]
) -> None:
    page = text(client.get(f"/koppelingen/{shop_id}?{query}"))
    for number in shown:
        assert f'id="booking-{number}"' in page
    for number in hidden:
        assert f'id="booking-{number}"' not in page


def test_paging(web: Web, client: FlaskClient, shop_id: int) -> None:
    for n in range(30):
        web.services.store.bookings.record_unclaimed(
            shop_id, f"2{n:03d}", state=BookingState.SKIPPED, reason="-"
        )
    page = text(client.get(f"/koppelingen/{shop_id}"))
    assert "Pagina 1 van 2 (34 boekingen)" in page and "pagina=2" in page
    page = text(client.get(f"/koppelingen/{shop_id}?pagina=2"))
    assert "Pagina 2 van 2" in page and page.count('id="booking-') == 9


def test_failed_booking_shows_the_message_and_what_to_do(
    web: Web, client: FlaskClient, shop_id: int
) -> None:
    row = web.services.store.bookings.get(shop_id, "1003")
    assert row is not None
    page = text(client.get(f"/koppelingen/{shop_id}/boekingen/{row.id}"))
    assert "Wat er mis ging en wat u kunt doen:" in page
    assert "Kies een andere bij Instellingen" in page
    assert "Technische melding (GROOTBOEK_ONBEKEND):" in page  # under the Dutch sentence
    assert f'href="/koppelingen/{shop_id}/instellingen#regels">Naar Instellingen' in page
    assert "Grootboekrekening '8999' bestaat niet" in page


def test_retry_requeues_a_failed_booking(web: Web, client: FlaskClient, shop_id: int) -> None:
    row = web.services.store.bookings.get(shop_id, "1003")
    assert row is not None
    url = f"/koppelingen/{shop_id}/boekingen/{row.id}"
    response = post(client, f"{url}/opnieuw", form_url=url)
    assert response.status_code == 302 and response.location == url
    again = web.services.store.bookings.get_for_shop(shop_id, row.id)
    assert again is not None and again.state == BookingState.RETRYING
    [job] = booking_jobs(web.services.queue, shop_id, "1003")
    # a person asked: booked even if placed before the shop's start date
    assert job.args == [shop_id, "1003", True] and job.meta["source"] == "retry"
    assert "staat weer in de wachtrij" in text(client.get(url))


def test_retry_of_a_booked_order_does_nothing(web: Web, client: FlaskClient, shop_id: int) -> None:
    row = web.services.store.bookings.get(shop_id, "1001")
    assert row is not None
    url = f"/koppelingen/{shop_id}/boekingen/{row.id}"
    response = post(client, f"{url}/opnieuw", form_url=url)
    assert "hoeft niet opnieuw" in text(client.get(response.location))
    assert len(web.services.queue) == 0


def test_booking_of_another_shop_is_not_found(web: Web, client: FlaskClient, shop_id: int) -> None:
    other = new_shop(web, client)
    row = web.services.store.bookings.get(shop_id, "1003")
    assert row is not None
    assert client.get(f"/koppelingen/{other}/boekingen/{row.id}").status_code == 404
    url = f"/koppelingen/{other}/boekingen/{row.id}/opnieuw"
    assert post(client, url, form_url="/").status_code == 404


def test_preview_shows_the_mutation_without_booking(
    web: Web, client: FlaskClient, shop_id: int
) -> None:
    web.add_order(make_order(1001, seed=3))
    page = text(client.get(f"/koppelingen/{shop_id}/voorbeeld?bestelling=1001"))
    assert "Mutatie 1: Factuur verstuurd" in page
    assert "Grootboekrekening" in page and "HOOG_VERK_21" in page and "1300" in page
    assert "Relatie (debiteur)" in page


def test_preview_explains_skips_and_unknown_orders(
    web: Web, client: FlaskClient, shop_id: int
) -> None:
    web.add_order(make_order(1005, status=1))
    web.add_order(make_order(1006, kind="oss"))
    url = f"/koppelingen/{shop_id}/voorbeeld?bestelling="
    assert "Deze bestelling wordt niet geboekt" in text(client.get(url + "1005"))
    assert "Voeg bij Instellingen een regel voor" in text(client.get(url + "1006"))
    assert "Bestelling 4040 bestaat niet (meer)" in text(client.get(url + "4040"))
    assert 'id="preview"' not in text(client.get(url))


class TestLedgerQueries:
    """The queries added for the web interface, on both databases."""

    def test_page_bookings_and_counts(self, backend: Backend) -> None:
        store = Store(engine_for(backend.database_url), Vault(generate_key()))
        creds = Credentials("t", "winkelier", "c1", "c2")
        a, _ = store.shops.register(name="a", credentials=creds)
        b, _ = store.shops.register(name="b", credentials=creds)
        booked(store, a, "10_1", 1)
        booked(store, a, "1001", 2)
        failed(store, a, "1002")
        failed(store, b, "1002")
        rows, total = store.bookings.page(a, states=[BookingState.BOOKED], limit=1)
        assert total == 2 and len(rows) == 1
        rows, total = store.bookings.page(a, search="_")
        assert total == 1 and rows[0].order_number == "10_1"
        assert store.bookings.counts_by_shop()[b]["failed"] == 1
        assert store.bookings.counts_by_shop()[a]["booked"] == 2
        row = store.bookings.get(b, "1002")
        assert row is not None
        assert store.bookings.get_for_shop(a, row.id) is None
        assert store.bookings.get_for_shop(b, row.id) == row
        user = store.users.create("x@y.nl", "h1")
        store.users.set_password(user, "h2")
        found = store.users.get(user)
        assert found is not None and found.password_hash == "h2"
        assert [u.email for u in store.users.all()] == ["x@y.nl"]


def test_a_booking_shows_its_notes_and_vat_facts(
    web: Web, client: FlaskClient, shop_id: int
) -> None:
    """Issue 24: the ICP buyer's own relation and the OSS amounts, on the booking's page."""
    store = web.services.store
    facts = OrderFacts(
        total=Decimal("121.00"),
        date=dt.date(2025, 3, 31),
        destination="DE",
        buyer_vat_number="DE123456789",
        oss_amounts=[{"country": "DE", "rate": "19", "net": "1000.00", "vat": "190.00"}],
    )
    claim = store.bookings.claim(shop_id, "1010", facts, lease_seconds=60)
    assert isinstance(claim, Claim)
    note = "Relatie KLANT heeft in e-Boekhouden btw-nummer DE999999999; … opgaaf ICP …"
    store.bookings.mark_booked(
        claim.booking_id,
        shop_id=shop_id,
        mutation_number=510,
        payment_mutation_number=None,
        relation_code="MWWOWN",
        warnings=[note],
    )
    page = text(client.get(f"/koppelingen/{shop_id}/boekingen/{claim.booking_id}"))
    assert note in page.split('id="warnings"', 1)[1]
    assert 'Land van bestemming</dt><dd id="destination">Duitsland (DE)' in page
    assert "DE123456789" in page
    assert (
        'OSS Duitsland (DE) 19%</dt><dd class="oss-amount">omzet € 1.000,00, btw € 190,00' in page
    )


def test_preview_shows_the_bookings_notes(web: Web, client: FlaskClient, shop_id: int) -> None:
    order = make_order(1007, seed=3)
    order["shipping"] = [{"country": {"isocode": "BE"}}]
    order["debtor"]["address"]["delivery"] = {"name": "X", "country_code": "BE", "zipcode": "9000"}
    web.add_order(order)
    page = text(client.get(f"/koppelingen/{shop_id}/voorbeeld?bestelling=1007"))
    notes = page.split('id="preview-notes"', 1)[1]
    assert "afstandsverkoop naar BE met Nederlandse btw" in notes
