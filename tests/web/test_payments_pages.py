"""The pages for payments: "Betaalmethoden" in Instellingen, a booking's invoice and
payments, the overview's "wacht op betaling" filter and "Opnieuw proberen" for a failed
payment."""

from __future__ import annotations

import datetime as dt
import html as htmllib
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.core.mapping_settings import NOT_BOOKED
from app.states import OrderPayment, PaymentState
from app.store import Store
from app.store.booking_records import Claim, OrderFacts
from app.store.payment_records import PaymentClaim, PaymentRow
from tests.web.helpers import Web, new_shop, post, shop_of, submit


def text(response: Any) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def invoiced(store: Store, shop_id: int, number: str, mutation: int) -> int:
    claim = store.bookings.claim(
        shop_id,
        number,
        OrderFacts(total=Decimal("60.50"), date=dt.date(2026, 11, 2)),
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
    return claim.booking_id


def capture(
    key: str,
    amount: str,
    day: int,
    method: str = "in_arrears",
    state: PaymentState = PaymentState.PENDING,
    reason: str = "",
    n: str = "",
) -> PaymentRow:
    return PaymentRow(
        key,
        "capture",
        method,
        dt.date(2026, 11, day),
        Decimal(amount),
        "1100" if state != PaymentState.HELD else "",
        state,
        reason,
        n,
    )


@pytest.fixture
def shop_id(web: Web, client: FlaskClient) -> int:
    shop_id = new_shop(web, client)
    store = web.services.store
    invoiced(store, shop_id, "2001", 601)  # paid in two parts: one booked, one to come
    [first, _] = store.payments.record_family(
        shop_id,
        "2001",
        [capture("a", "20.00", 5, n="2001"), capture("b", "10.00", 9, n="2001")],
        (),
    )
    store.payments.set_order_state(shop_id, "2001", OrderPayment.OPEN)
    claim = store.payments.claim(first.id, lease_seconds=60)
    assert isinstance(claim, PaymentClaim)
    store.payments.mark_booked(claim, 777)
    invoiced(store, shop_id, "2002", 602)  # settled
    store.payments.set_order_state(shop_id, "2002", OrderPayment.SETTLED)
    invoiced(store, shop_id, "2003", 603)  # held back: PayPal has no ledger
    store.payments.record_family(
        shop_id,
        "2003",
        [
            capture(
                "c",
                "60.50",
                3,
                "paypal",
                PaymentState.HELD,
                "De betaling van bestelling 2003 is gedaan met PayPal, en die betaalmethode heeft "
                "geen grootboekrekening.",
                n="2003",
            )
        ],
        (),
    )
    store.payments.set_order_state(shop_id, "2003", OrderPayment.HELD)
    return shop_id


def test_a_booking_shows_its_invoice_and_its_payments(
    web: Web, client: FlaskClient, shop_id: int
) -> None:
    row = web.services.store.bookings.get(shop_id, "2001")
    assert row is not None
    page = text(client.get(f"/koppelingen/{shop_id}/boekingen/{row.id}"))
    invoice = page.split('id="invoice"', 1)[1].split("</tr>", 1)[0]
    assert "Factuur" in invoice and "02-11-2026" in invoice and "€ 60,50" in invoice
    assert ">601<" in invoice
    rows = page.split('id="payments"', 1)[1].split("</table>", 1)[0]
    booked_row = rows.split('class="payment-booked"', 1)[1].split("</tr>", 1)[0]
    assert "05-11-2026" in booked_row and "€ 20,00" in booked_row and ">777<" in booked_row
    assert "Op rekening" in booked_row and "1100" in booked_row and "Geboekt" in booked_row
    pending_row = rows.split('class="payment-pending"', 1)[1].split("</tr>", 1)[0]
    assert "09-11-2026" in pending_row and "Wachtend" in pending_row
    assert "Wacht op betaling" in page


def test_wacht_op_betaling_filters_open_and_held_orders(client: FlaskClient, shop_id: int) -> None:
    page = text(client.get(f"/koppelingen/{shop_id}"))
    count = page.split('id="count-wacht-op-betaling"', 1)[1].split("</span>", 1)[0]
    assert count.rsplit(">", 1)[1] == "2"
    filtered = text(client.get(f"/koppelingen/{shop_id}?status=wacht op betaling"))
    assert 'id="booking-2001"' in filtered and 'id="booking-2003"' in filtered
    assert 'id="booking-2002"' not in filtered
    assert "Betaling vraagt actie" in filtered
    everything = text(client.get(f"/koppelingen/{shop_id}"))
    assert 'id="booking-2002"' in everything


def test_a_held_payment_says_where_to_configure_and_can_be_tried_again(
    web: Web, client: FlaskClient, shop_id: int
) -> None:
    row = web.services.store.bookings.get(shop_id, "2003")
    assert row is not None
    url = f"/koppelingen/{shop_id}/boekingen/{row.id}"
    page = text(client.get(url))
    assert "PayPal" in page and "Naar Betaalmethoden" in page and "Opnieuw proberen" in page
    response = post(client, f"{url}/opnieuw", form_url=url)
    assert response.status_code == 302
    assert web.services.queue.count == 1


def test_betaalmethoden_lists_the_shops_methods_and_saves_a_ledger_each(
    web: Web, client: FlaskClient, shop_id: int
) -> None:
    page = text(client.get(f"/koppelingen/{shop_id}/instellingen"))
    section = page.split('id="betaalmethoden"', 1)[1].split("</fieldset>", 1)[0]
    # From the shop's gateways (iDEAL, contant, cadeaubon) and seen on its orders.
    for label in ("iDEAL", "Contant", "Cadeaubon (webwinkel)", "Op rekening", "PayPal"):
        assert label in section
    assert "niet boeken" in section and "1100 - Bank" in section
    response = submit(
        client,
        shop_id,
        action="save",
        **{
            "payment_ledgers.ideal": "1100",
            "payment_ledgers.webshop_giftcard": NOT_BOOKED,
            "payment_ledgers.cash": "",
        },
    )
    assert response.status_code == 302, text(response)
    assert shop_of(web, shop_id).mapping.payment_ledgers == {
        "ideal": "1100",
        "webshop_giftcard": NOT_BOOKED,
    }
    again = text(client.get(f"/koppelingen/{shop_id}/instellingen"))
    assert 'name="payment_ledgers.ideal"' in again


def test_an_unknown_ledger_for_a_method_is_refused_on_the_field(
    client: FlaskClient, shop_id: int
) -> None:
    response = submit(client, shop_id, action="save", **{"payment_ledgers.ideal": "4444"})
    assert response.status_code == 400
    page = text(response)
    assert 'id="error-payment_ledgers.ideal"' in page
    assert "Grootboekrekening 4444 bestaat niet" in page
