"""The pages of issue 23: Betaalmethoden proposes a balance ledger for gift cards (never
"niet boeken"), Instellingen asks for the date from which earlier invoices get payments and
for the shop's payment lookback, and the overview lists the open money with its reasons."""

from __future__ import annotations

import datetime as dt
import html as htmllib
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.states import BookingMode, OrderPayment, PaymentState
from app.store import Store
from app.store.booking_records import Claim, OrderFacts
from app.store.payment_records import PaymentRow
from tests.web import helpers
from tests.web.helpers import Web, new_shop, shop_of, submit


def text(response: Any) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def giftcard_select(page: str) -> str:
    return page.split('name="payment_ledgers.webshop_giftcard"', 1)[1].split("</td>", 1)[0]


def test_betaalmethoden_proposes_the_gift_card_ledger_not_niet_boeken(
    web: Web, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop_id = new_shop(web, client)
    without = text(client.get(f"/koppelingen/{shop_id}/instellingen"))
    assert 'balansrekening "Uitstaande cadeaubonnen" aan' in giftcard_select(without)
    assert 'value="-" selected' not in giftcard_select(without)

    chart = [*helpers.CHART, ("1610", "Uitstaande cadeaubonnen", "BAL")]
    monkeypatch.setattr(helpers, "CHART", chart)
    page = text(client.get(f"/koppelingen/{shop_id}/instellingen"))
    select = giftcard_select(page)
    assert '<option value="1610" selected>' in select and "Voorgesteld" in select
    assert submit(client, shop_id, action="save").status_code == 302
    assert shop_of(web, shop_id).mapping.payment_ledgers["webshop_giftcard"] == "1610"


def booked_in(store: Store, shop_id: int, number: str, mode: BookingMode) -> int:
    facts = OrderFacts(total=Decimal("60.50"), date=dt.date.today() - dt.timedelta(days=5))
    claim = store.bookings.claim(shop_id, number, facts, lease_seconds=60, booking_mode=mode)
    assert isinstance(claim, Claim)
    store.bookings.mark_booked(
        claim.booking_id,
        shop_id=shop_id,
        mutation_number=700,
        payment_mutation_number=None,
        relation_code="MWW1",
    )
    return claim.booking_id


def test_a_switch_asks_from_when_earlier_invoices_get_their_payments(
    web: Web, client: FlaskClient
) -> None:
    shop_id = new_shop(web, client)
    assert submit(client, shop_id, action="install").status_code == 302
    store = web.services.store
    booked_in(store, shop_id, "3001", BookingMode.INVOICE)
    page = text(client.get(f"/koppelingen/{shop_id}/instellingen"))
    assert "Betalingen van eerder geboekte facturen" in page

    # Switched without a date: earlier invoices stay the bookkeeper's, and the page says so.
    response = submit(client, shop_id, action="save", booking_mode=BookingMode.INVOICE_AND_PAYMENT)
    assert response.status_code == 302
    assert "krijgen geen betalingen" in text(client.get(response.location))
    assert store.bookings.get(shop_id, "3001").payment_state is None  # type: ignore[union-attr]

    # With a date and a longer lookback: followed from now on.
    response = submit(
        client,
        shop_id,
        action="save",
        booking_mode=BookingMode.INVOICE_AND_PAYMENT,
        earlier_invoices="from",
        payments_from="2026-11-20",
        payment_lookback_days="120",
    )
    assert response.status_code == 302, text(response)
    mapping = shop_of(web, shop_id).mapping
    assert (mapping.payments_from, mapping.payment_lookback_days) == (dt.date(2026, 11, 20), 120)
    assert store.bookings.get(shop_id, "3001").payment_state == OrderPayment.OPEN  # type: ignore[union-attr]
    again = text(client.get(f"/koppelingen/{shop_id}/instellingen"))
    assert 'value="2026-11-20"' in again and 'name="payment_lookback_days"' in again


@pytest.mark.parametrize(
    "field, changes",
    [
        ("payments_from", {"earlier_invoices": "from", "payments_from": "20-11-2026"}),
        ("payment_lookback_days", {"payment_lookback_days": "0"}),
        ("payment_lookback_days", {"payment_lookback_days": "zestig"}),
    ],
)
def test_bad_dates_and_lookbacks_are_refused_on_the_field(
    web: Web, client: FlaskClient, field: str, changes: dict[str, str]
) -> None:
    shop_id = new_shop(web, client)
    response = submit(
        client, shop_id, action="save", booking_mode=BookingMode.INVOICE_AND_PAYMENT, **changes
    )
    assert response.status_code == 400
    assert f'id="error-{field}"' in text(response)


def test_the_overview_lists_open_money_with_what_to_do(web: Web, client: FlaskClient) -> None:
    shop_id = new_shop(web, client)
    store = web.services.store
    booked_in(store, shop_id, "3101", BookingMode.INVOICE_AND_PAYMENT)
    reason = "Bij bestelling 3101 is € 5,00 terugbetaald, maar er is geen creditbestelling."
    store.payments.record_family(
        shop_id,
        "3101",
        [
            PaymentRow(
                "p:r1",
                "refund",
                "ideal",
                dt.date.today(),
                Decimal("-5.00"),
                "",
                PaymentState.HELD,
                reason,
                "3101",
            )
        ],
        (),
    )
    store.payments.set_order_state(shop_id, "3101", OrderPayment.HELD)
    page = text(client.get(f"/koppelingen/{shop_id}"))
    section = page.split('id="openstaand"', 1)[1].split("</section>", 1)[0]
    assert "Openstaande posten (1)" in section or "Openstaande posten" in page
    assert "3101" in section and "€ -5,00" in section and "geen creditbestelling" in section
    assert "Tegengehouden" in section
