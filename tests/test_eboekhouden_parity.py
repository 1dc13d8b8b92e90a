"""SOAP and REST book the same order the same way.

Every order of the mapping table (``tests/mapping_cases.py``: ORDER_CASES and
CREDIT_CASES) is mapped once, its rows checked against the table, and posted twice:
through the SOAP client to the SOAP simulator and through the REST client to the REST
simulator, which computes each row's VAT itself. Both must hold the same rows (ledger, VAT
rate, amount incl. VAT, VAT), the same VAT per rate and the same total, and
``find_mutations`` must give the same answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from app.clients.eboekhouden import EBoekhoudenClient
from app.clients.eboekhouden_rest import EBoekhoudenRestClient, clear_caches
from app.clients.eboekhouden_rest.wire import rest_vat_code
from app.core.mapping import Booking, map_order
from app.core.mapping_settings import MappingSettings
from app.core.mutations import Mutation, Soort
from app.core.payment_facts import CAPTURE, SOURCE_LISTING, MoneyMovement, PaymentFacts
from app.core.payments import Invoice, cash_booking, plan_payments
from app.states import BookingMode
from sandbox.eboekhouden import SOAP_PATH, EBoekhoudenSimulator
from sandbox.eboekhouden_rest import EBoekhoudenRestSimulator
from sandbox.server import ServerThread
from tests.factories import fmt, order
from tests.mapping_cases import CREDIT_CASES, ORDER_CASES

pytestmark = pytest.mark.integration  # both simulators on loopback servers

USER, CODE1, CODE2 = "parity", "parity-code-1", "PARITY-CODE-2"
TOKEN = "parity-api-token"
Row = tuple[str, Decimal, Decimal, Decimal]  # ledger, rate, incl, vat


@pytest.fixture(scope="module")
def soap() -> Iterator[tuple[EBoekhoudenSimulator, str]]:
    sim = EBoekhoudenSimulator()
    sim.add_administration(USER, CODE1, CODE2)
    with ServerThread(sim) as server:
        yield sim, server.url + SOAP_PATH


@pytest.fixture(scope="module")
def rest() -> Iterator[tuple[EBoekhoudenRestSimulator, str]]:
    sim = EBoekhoudenRestSimulator()
    sim.add_administration(TOKEN)
    with ServerThread(sim) as server:
        yield sim, server.url


def post(client: Any, booking: Booking) -> list[int]:
    client.add_relation(booking.relation)
    numbers = [
        client.add_mutation(m.with_relation(booking.relation.code)) for m in booking.mutations
    ]
    return numbers


def soap_rows(mutation: dict[str, Any]) -> list[Row]:
    return [
        (r["TegenrekeningCode"], Decimal(r["BTWPercentage"]), r["BedragInclBTW"], r["BedragBTW"])
        for r in mutation["MutatieRegels"]
    ]


def rest_rows(mutation: dict[str, Any], rates: list[Decimal]) -> list[Row]:
    """REST rows carry no rate (the code implies it; AFW_VERK takes our VAT amount): the
    rate is the posted row's."""
    return [
        (r["ledgerCode"], rate, r["amount"], r["vatAmount"])
        for r, rate in zip(mutation["rows"], rates, strict=True)
    ]


def per_rate(rows: list[Row]) -> dict[Decimal, Decimal]:
    totals: dict[Decimal, Decimal] = defaultdict(Decimal)
    for _, rate, _, vat in rows:
        totals[rate] += vat
    return dict(totals)


CASES = [pytest.param(ls, ov, s, ex, id=i) for i, ls, ov, s, ex in ORDER_CASES + CREDIT_CASES]
MODE_CASE = next(case for case in ORDER_CASES if case[0] == "articles-21-9-0")
CASES += [
    pytest.param(*MODE_CASE[1:], id=f"{MODE_CASE[0]}-{mode}")
    for mode in (BookingMode.CASH, BookingMode.INVOICE_AND_PAYMENT)
]


@pytest.mark.parametrize(("lines", "overrides", "mapping", "expected"), CASES)
def test_both_adapters_book_the_same_rows_vat_and_total(
    request, soap, rest, lines, overrides, mapping: MappingSettings, expected: list[str]
):
    mode = next(
        (
            m
            for m in (BookingMode.CASH, BookingMode.INVOICE_AND_PAYMENT)
            if request.node.callspec.id.endswith(m)
        ),
        None,
    )
    if mode:  # the money arrives on the iDEAL ledger ("Betaalmethoden")
        mapping = dataclasses.replace(mapping, booking_mode=mode, payment_ledgers=PAID_BY)
    soap_sim, soap_url = soap
    rest_sim, rest_url = rest
    soap_sim.reset()
    rest_sim.reset()
    clear_caches()
    booking = map_order(order(*lines, **overrides), mapping)
    assert isinstance(booking, Booking)
    assert [fmt(r) for r in booking.mutations[0].rows] == expected
    if mode:
        booking = with_payment(booking, mapping)
    ledgers = {r.ledger for m in booking.mutations for r in m.rows}
    known = {a["Code"] for a in soap_sim.books.admin(USER).ledgers.values()}
    for code in sorted(ledgers - known):
        soap_sim.add_ledger(USER, code, f"Omzet {code}")
        rest_sim.add_ledger(TOKEN, code, f"Omzet {code}")

    with EBoekhoudenClient(USER, CODE1, CODE2, url=soap_url) as soap_client:
        soap_numbers = post(soap_client, booking)
        soap_found = soap_client.find_mutations(booking.order_number)
    with EBoekhoudenRestClient(TOKEN, url=rest_url) as rest_client:
        rest_numbers = post(rest_client, booking)
        rest_found = rest_client.find_mutations(booking.order_number)

    soap_books, rest_books = soap_sim.mutations(USER), rest_sim.mutations(TOKEN)
    assert len(soap_books) == len(rest_books) == len(booking.mutations)
    assert len(soap_numbers) == len(rest_numbers)
    for mutation, ours, theirs in zip(booking.mutations, soap_books, rest_books, strict=True):
        left = soap_rows(ours)
        right = rest_rows(theirs, [r.btw_percentage for r in mutation.rows])
        assert [r["vatCode"] for r in theirs["rows"]] == [
            rest_vat_code(r.btw_code, mutation.date) for r in mutation.rows
        ]
        assert left == right
        assert per_rate(right) == per_rate(left)
        assert sum(r[2] for r in right) == sum(r[2] for r in left) == mutation.total
        assert [(r.ledger, r.amount_incl, r.amount_vat) for r in mutation.rows] == [
            (ledger, incl, vat) for ledger, _, incl, vat in right
        ]
        assert theirs["vat"] == [
            {"vatCode": code, "amount": amount}
            for code, amount in _vat_by_code(mutation.rows, mutation.date).items()
        ]
    assert [(m.soort, m.invoice_number, m.total) for m in soap_found] == [
        (m.soort, m.invoice_number, m.total) for m in rest_found
    ]
    assert soap_found[0].total == booking.total


PAID_BY = {"ideal": "1100"}


def with_payment(booking: Booking, mapping: MappingSettings) -> Booking:
    """What reaches e-Boekhouden once the whole total is captured by iDEAL: in cash mode
    one GeldOntvangen on the method's ledger, in invoice_and_payment the invoice and then
    one FactuurbetalingOntvangen (app/core/payments.py)."""
    capture = MoneyMovement(
        "pay-1:mut-1",
        CAPTURE,
        booking.mutations[0].date + dt.timedelta(days=1),
        booking.total,
        "ideal",
    )
    facts = PaymentFacts((capture,), SOURCE_LISTING, ("ideal",))
    if mapping.booking_mode == BookingMode.CASH:
        cash = cash_booking(booking.mutations[0], booking.total, facts, mapping)
        assert isinstance(cash, Mutation), cash
        assert cash.soort == Soort.GELD_ONTVANGEN and cash.ledger == PAID_BY["ideal"]
        return dataclasses.replace(booking, mutations=(cash,))
    invoice = Invoice(
        booking.order_number, booking.invoice_number, booking.relation.code, booking.total
    )
    plan = plan_payments(invoice, facts, mapping)
    assert plan.settled
    paid = tuple(p.mutation for p in plan.payments if p.mutation is not None)
    assert [m.soort for m in paid] == [Soort.FACTUURBETALING_ONTVANGEN]
    return dataclasses.replace(booking, mutations=(*booking.mutations, *paid))


def _vat_by_code(rows: Any, date: Any) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for row in rows:
        code = rest_vat_code(row.btw_code, date)
        totals[code] = totals.get(code, Decimal(0)) + row.amount_vat
    return totals
