"""map_order: one Mijnwebwinkel order + the shop's settings → what to book (table-driven)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from app.core.mapping import (
    MAX_RELATION_CODE,
    Booking,
    Skip,
    build_relation,
    is_credit,
    map_order,
    relation_code,
    treatment_for,
)
from app.core.mapping_settings import (
    BETAALKOSTEN,
    BTW_CODE_RATES,
    DEFAULT_RULES,
    EXPORT,
    KORTING,
    MODE_CASH,
    MODE_INVOICE,
    MODE_INVOICE_AND_PAYMENT,
    OMZET,
    REVERSE_CHARGE,
    VERZENDKOSTEN,
    MappingSettings,
    TaxRule,
    describe_treatment,
    oss_key,
    rate_key,
    rate_text,
    validate,
)
from app.core.mutations import CENT, MutationRow, Soort
from app.core.order_schema import parse_order
from app.core.orders import Order
from app.errors import MappingError
from tests.factories import (
    debtor,
    line,
    order,
    order_json,
    payload,
    rule,
    settings,
    split_line,
    tax_price,
    with_value,
    without,
    without_rule,
)
from tests.mapping_cases import (
    CREDIT_CASES,
    INCUMBENT,
    KORTING_8900,
    ORDER_CASES,
    OSS_DE,
    oss,
)

D = Decimal
SPEC = "mijnwebwinkel/order.spec-example.json"
LIVE = "mijnwebwinkel/order.live-shape.sdk-test.json"
DEFAULT = MappingSettings()
PSP = "1100"


def fmt(row: MutationRow) -> str:
    """``"HOOG_VERK_21 8010 12.10 10.00 2.10"`` after checking the row is cent-exact."""
    for amount in (row.amount_incl, row.amount_excl, row.amount_vat):
        assert amount == amount.quantize(CENT), row
        assert amount or not amount.is_signed(), row  # no -0.00 on the wire
    assert row.amount_excl + row.amount_vat == row.amount_incl, row
    amounts = f"{row.amount_incl:.2f} {row.amount_excl:.2f} {row.amount_vat:.2f}"
    return f"{row.btw_code} {row.ledger} {amounts}"


def booked(result: Booking | Skip) -> Booking:
    assert isinstance(result, Booking), result
    invoice = result.mutations[0]
    assert sum((r.amount_incl for r in invoice.rows), D(0)) == result.total
    for row in invoice.rows:
        fmt(row)
        expected_rate = BTW_CODE_RATES.get(row.btw_code)
        if expected_rate is not None:
            assert row.btw_percentage == expected_rate
    return result


def rows(result: Booking | Skip) -> list[str]:
    return [fmt(r) for r in booked(result).mutations[0].rows]




@pytest.mark.parametrize(
    ("lines", "overrides", "mapping", "expected"),
    [pytest.param(ls, ov, s, ex, id=i) for i, ls, ov, s, ex in ORDER_CASES],
)
def test_order_rows(
    lines: list[dict[str, Any]], overrides: dict[str, Any], mapping: MappingSettings,
    expected: list[str],
) -> None:
    parsed = order(*lines, **overrides)
    result = booked(map_order(parsed, mapping))
    assert rows(result) == expected
    assert result.kind == "order"
    assert result.total == parsed.total > 0
    assert len(result.mutations) == 1




@pytest.mark.parametrize(
    ("lines", "overrides", "mapping", "expected"),
    [pytest.param(ls, ov, s, ex, id=i) for i, ls, ov, s, ex in CREDIT_CASES],
)
def test_credit_rows(
    lines: list[dict[str, Any]], overrides: dict[str, Any], mapping: MappingSettings,
    expected: list[str],
) -> None:
    parsed = order(*lines, number=2001, **overrides)
    assert is_credit(parsed, mapping)
    result = booked(map_order(parsed, mapping))
    assert rows(result) == expected
    assert result.kind == "credit"
    assert result.total == -abs(parsed.total) < 0
    assert result.order_number == "2001"
    invoice = result.mutations[0]
    assert invoice.invoice_number == "2001"  # its own number, not the credited order's
    assert invoice.soort == Soort.FACTUUR_VERSTUURD
    assert invoice.description.startswith("Creditnota 2001")


@pytest.mark.parametrize(
    ("overrides", "description"),
    [
        ({"status": 10}, "Creditnota 2001 - Truus Voorbeeldig"),
        ({"credited_order_number": 1000},
         "Creditnota 2001 bij bestelling 1000 - Truus Voorbeeldig"),
        ({}, "Mijnwebwinkel bestelling 2001 - Truus Voorbeeldig"),
        ({"debtor": debtor(company="Voorbeeldig BV")},
         "Mijnwebwinkel bestelling 2001 - Voorbeeldig BV"),
        ({"debtor": {"email": "x@example.com"}}, "Mijnwebwinkel bestelling 2001"),
    ],
)
def test_description(overrides: dict[str, Any], description: str) -> None:
    result = booked(map_order(order(number=2001, **overrides), DEFAULT))
    assert result.mutations[0].description == description


def test_long_description_is_shortened_not_refused() -> None:
    parsed = order(number="9" * 50, debtor=debtor(name="N" * 100, company="C" * 100))
    result = booked(map_order(parsed, DEFAULT))
    description = result.mutations[0].description
    assert description == f"Mijnwebwinkel bestelling {'9' * 50} - {'C' * 100}"
    long_credit = order(number="9" * 50, credited_order_number="8" * 50,
                        debtor=debtor(company="C" * 100))
    description = booked(map_order(long_credit, DEFAULT)).mutations[0].description
    assert len(description) == 200
    assert description.endswith("…")
    assert booked(map_order(long_credit, DEFAULT)).mutations[0].invoice_number == "9" * 50


# --- the two captured fixtures -------------------------------------------------------------

SPEC_ROWS = ["HOOG_VERK_21 8010 30.75 25.41 5.34", "LAAG_VERK_9 8000 9.96 9.14 0.82",
             "HOOG_VERK_21 8000 6.74 5.57 1.17"]


DROP = object()


def fixture_order(name: str, **changes: Any) -> Order:
    """A captured order with top-level fields changed (``DROP`` removes one)."""
    data = payload(name)
    data.update(changes)
    return parse_order({k: v for k, v in data.items() if v is not DROP})


def test_spec_example_is_a_credit_note_in_a_status_that_is_not_booked() -> None:
    spec = fixture_order(SPEC)
    assert spec.credited_order_number == "28"
    assert is_credit(spec, DEFAULT)
    result = map_order(spec, DEFAULT)
    assert result == Skip("status_not_bookable",
                          "Bestelling 27 heeft status 1; die status wordt niet geboekt.")


@pytest.mark.parametrize("status", [2, 3, 6, 10])
def test_spec_example_as_credit_note(status: int) -> None:
    result = booked(map_order(fixture_order(SPEC, status=status), DEFAULT))
    assert result.kind == "credit"
    assert result.total == D("-47.45")
    assert rows(result) == ["HOOG_VERK_21 8010 -30.75 -25.41 -5.34",
                            "LAAG_VERK_9 8000 -9.96 -9.14 -0.82",
                            "HOOG_VERK_21 8000 -6.74 -5.57 -1.17"]
    assert result.mutations[0].description.startswith("Creditnota 27 bij bestelling 28")


@pytest.mark.parametrize("status", [2, 3, 6])
def test_spec_example_without_credited_order_number(status: int) -> None:
    spec = fixture_order(SPEC, status=status, credited_order_number=DROP)
    assert not is_credit(spec, DEFAULT)
    result = booked(map_order(spec, DEFAULT))
    assert result.kind == "order"
    assert result.total == D("47.45")
    assert rows(result) == SPEC_ROWS
    # the rows' VAT matches the shop's own VAT summary (0.83 + 6.50)
    assert sum(r.amount_vat for r in result.mutations[0].rows) == sum(t.amount for t in spec.tax)
    invoice = result.mutations[0]
    assert (invoice.invoice_number, invoice.date, invoice.ledger) == ("27", dt.date(2015, 11, 3),
                                                                     "1300")
    relation = result.relation
    assert (relation.name, relation.contact, relation.bp) == ("Voorbeeldig BV",
                                                               "Truus voorbeeldig", "B")
    assert (relation.address, relation.postcode, relation.city, relation.country) == (
        "Molenstraat 62", "5341GE", "Oss", "NL")
    assert (relation.email, relation.phone) == ("support@mijnwebwinkel.nl", "06-12345678")
    assert invoice.relation_code == relation.code


def test_spec_example_with_null_credited_order_number() -> None:
    spec = fixture_order(SPEC, status=3, credited_order_number=None)
    assert rows(map_order(spec, DEFAULT)) == SPEC_ROWS


def test_live_shape_is_a_credit_note() -> None:
    live = fixture_order(LIVE)
    assert is_credit(live, DEFAULT)
    result = booked(map_order(live, DEFAULT))
    assert result.kind == "credit"
    assert result.total == D("-68.00")
    assert rows(result) == ["HOOG_VERK_21 8010 -68.00 -56.20 -11.80"]
    assert result.mutations[0].invoice_number == "1001"
    assert result.mutations[0].description == "Creditnota 1001 bij bestelling 999 - Test User"


def test_live_shape_without_credited_order_number() -> None:
    live = fixture_order(LIVE, credited_order_number=DROP)
    result = booked(map_order(live, DEFAULT))
    assert result.kind == "order"
    assert result.total == D("68.00")
    assert rows(result) == ["HOOG_VERK_21 8010 68.00 56.20 11.80"]
    # the row's VAT equals the shop's own single-object VAT summary
    assert result.mutations[0].rows[0].amount_vat == live.tax[0].amount
    relation = result.relation  # no address.invoice: the deprecated debtor-level fields
    assert (relation.name, relation.bp, relation.email) == ("Test User", "P", "test@example.com")
    assert relation.country == ""  # "country": [] and no invoice address
    wire = result.mutations[0].to_wire()
    assert wire["Factuurnummer"] == "1001"
    assert wire["Datum"] == dt.date(2025, 1, 1)


# --- booking modes -------------------------------------------------------------------------

MODE_LINES = [line("article", "121.00", 21), line("shipping", "6.05", 21)]


@pytest.mark.parametrize("credit", [False, True], ids=["order", "credit"])
@pytest.mark.parametrize(
    ("mode", "soorts", "ledgers"),
    [
        (MODE_INVOICE, [Soort.FACTUUR_VERSTUURD], ["1300"]),
        # The payment follows when the money arrives (tests/test_payments.py).
        (MODE_INVOICE_AND_PAYMENT, [Soort.FACTUUR_VERSTUURD], ["1300"]),
        # Placed on the payment's date and ledger once paid (app/core/payments.py).
        (MODE_CASH, [Soort.GELD_ONTVANGEN], [PSP]),
    ],
)
def test_booking_modes(mode: str, soorts: list[Soort], ledgers: list[str], credit: bool) -> None:
    mapping = settings(booking_mode=mode, payment_ledger=PSP)
    parsed = order(*MODE_LINES, number=3001, **({"status": 10} if credit else {}))
    result = booked(map_order(parsed, mapping))
    total = D("-127.05") if credit else D("127.05")
    assert result.total == total
    assert [m.soort for m in result.mutations] == soorts
    assert [m.ledger for m in result.mutations] == ledgers
    for mutation in result.mutations:
        assert mutation.invoice_number == "3001"
        assert mutation.relation_code == result.relation.code
        assert mutation.date == dt.date(2025, 3, 14)
        assert mutation.in_ex_btw == "IN"
        assert mutation.total == total
    sales = result.mutations[0]
    sign = "-" if credit else ""
    assert [fmt(r) for r in sales.rows] == [
        f"HOOG_VERK_21 8010 {sign}121.00 {sign}100.00 {sign}21.00",
        f"HOOG_VERK_21 8000 {sign}6.05 {sign}5.00 {sign}1.05",
    ]
    if mode == MODE_CASH:
        assert sales.payment_term_days is None
    else:
        assert sales.payment_term_days == 14


def test_invoice_mutation_fields() -> None:
    mapping = settings(debtors_ledger="1310", payment_term_days=30)
    parsed = order(line("article", "12.10", 21), number="2025-0042")
    result = booked(map_order(parsed, mapping))
    (invoice,) = result.mutations
    wire = invoice.to_wire()
    assert wire["Soort"] == "FactuurVerstuurd"
    assert wire["Rekening"] == "1310"
    assert wire["Factuurnummer"] == "2025-0042"
    assert wire["RelatieCode"] == result.relation.code
    assert wire["Datum"] == dt.date(2025, 3, 14)
    assert wire["InExBTW"] == "IN"
    assert wire["Betalingstermijn"] == "30"
    assert wire["MutatieRegels"] == [{
        "BedragInvoer": D("12.10"), "BedragExclBTW": D("10.00"), "BedragBTW": D("2.10"),
        "BedragInclBTW": D("12.10"), "BTWCode": "HOOG_VERK_21", "BTWPercentage": D("21"),
        "TegenrekeningCode": "8010", "KostenplaatsID": 0,
    }]


def test_invoice_and_payment_books_no_payment_with_the_invoice() -> None:
    mapping = settings(booking_mode=MODE_INVOICE_AND_PAYMENT, payment_ledger="1020")
    result = booked(map_order(order(), mapping))
    assert [m.soort for m in result.mutations] == [Soort.FACTUUR_VERSTUURD]


# --- skipped orders ------------------------------------------------------------------------

SKIP_CASES: list[tuple[str, dict[str, Any], MappingSettings, str, str]] = [
    ("test-order", {"number": "T-1001"}, DEFAULT, "test_order", "T-1001 is een testbestelling"),
    ("test-order-lowercase", {"number": "t-7"}, DEFAULT, "test_order", "testbestelling"),
    ("test-order-credit", {"number": "T-8", "status": 10}, DEFAULT, "test_order",
     "testbestelling"),
    ("test-order-non-eur", {"number": "T-9", "currency": "USD"}, DEFAULT, "test_order",
     "testbestelling"),
    ("test-order-bad-total", {"number": "T-9", "total": "99.99"}, DEFAULT, "test_order",
     "testbestelling"),
    ("test-order-unbookable-status", {"number": "T-9", "status": 1}, DEFAULT, "test_order",
     "testbestelling"),
    ("status-1", {"status": 1}, DEFAULT, "status_not_bookable", "heeft status 1"),
    ("status-4", {"status": 4}, DEFAULT, "status_not_bookable", "die status wordt niet geboekt"),
    ("status-0", {"status": 0}, DEFAULT, "status_not_bookable", "status 0"),
    ("status-99", {"status": 99}, DEFAULT, "status_not_bookable", "status 99"),
    ("status-name", {"status": 1}, settings(status_names={1: "Nieuw"}), "status_not_bookable",
     "Bestelling 1001 heeft Nieuw;"),
    ("own-bookable-statuses", {"status": 2}, settings(bookable_statuses={3}),
     "status_not_bookable", "status 2"),
    ("credit-in-unbookable-status", {"status": 1, "credited_order_number": 1000}, DEFAULT,
     "status_not_bookable", "status 1"),
    ("credit-status-not-configured", {"status": 10}, settings(credit_statuses={11}),
     "status_not_bookable", "status 10"),
    ("credit-status-unbookable-for-non-credit", {"status": 11},
     settings(credit_statuses=set()), "status_not_bookable", "status 11"),
    ("zero-total", {"total": "0.00", "orderlines": [line("article", "0.00", 21)]}, DEFAULT,
     "zero_total", "€ 0,00"),
    ("zero-total-no-lines", {"total": "0", "orderlines": []}, DEFAULT, "zero_total", "€ 0,00"),
    ("zero-total-discounted", {"total": "0.00", "orderlines": [
        line("article", "12.10", 21), line("discount", "-12.10", 21)]}, DEFAULT, "zero_total",
     "1001"),
    ("zero-total-credit", {"status": 10, "total": "0.00",
                           "orderlines": [line("article", "0.00", 21)]}, DEFAULT, "zero_total",
     "€ 0,00"),
]


@pytest.mark.parametrize(
    ("overrides", "mapping", "code", "reason"),
    [pytest.param(ov, s, c, r, id=i) for i, ov, s, c, r in SKIP_CASES],
)
def test_skipped(overrides: dict[str, Any], mapping: MappingSettings, code: str,
                 reason: str) -> None:
    result = map_order(order(**overrides), mapping)
    assert isinstance(result, Skip)
    assert result.code == code
    assert reason in result.reason


@pytest.mark.parametrize("status", [2, 3, 6])
def test_default_bookable_statuses(status: int) -> None:
    assert isinstance(map_order(order(status=status), DEFAULT), Booking)


@pytest.mark.parametrize("status", [1, 4, 5, 7, 8, 9, 11])
def test_other_statuses_are_not_booked_by_default(status: int) -> None:
    result = map_order(order(status=status), DEFAULT)
    assert isinstance(result, Skip)
    assert result.code == "status_not_bookable"


# --- orders that cannot be booked ----------------------------------------------------------

LONG = "x" * 51


def _line_without_incl() -> dict[str, Any]:
    built = line("article", None, 21)
    built["price"] = tax_price(None, 21, amount="10.00")
    return built


ERROR_CASES: list[tuple[str, Any, MappingSettings, list[str]]] = [
    ("lines-do-not-add-up", order_json(line("article", "12.10", 21), total="13.00"), DEFAULT,
     ["tellen op tot € 12.10", "ordertotaal is € 13.00", "wordt niet geboekt"]),
    ("one-cent-off", order_json(line("article", "12.10", 21), total="12.11"), DEFAULT,
     ["€ 12.10", "€ 12.11"]),
    ("one-cent-off-credit", order_json(line("article", "12.10", 21), total="12.09", status=10),
     DEFAULT, ["€ 12.10", "€ 12.09"]),
    ("credit-lines-of-the-other-sign",
     order_json(line("article", "-12.10", 21), total="12.10", status=10), DEFAULT,
     ["€ -12.10", "€ 12.10"]),
    ("no-lines", order_json(total="10.00", orderlines=[]), DEFAULT, ["tellen op tot € 0.00"]),
    ("missing-amount-including-tax", order_json(_line_without_incl(), total="12.10"), DEFAULT,
     ["Orderregel 1", "geen bedrag inclusief btw"]),
    ("missing-incl-in-split", order_json(
        line("article", "12.10", 21),
        split_line("payment", ("0.21", 9), ("0.79", 21)) | {"price": [
            tax_price("0.21", 9), tax_price(None, 21, amount="0.65")]},
        total="13.10"), DEFAULT, ["Orderregel 2", "geen bedrag inclusief btw"]),
    ("3-decimal-incl", order_json(line("article", "0.105", 21), total="0.105"), DEFAULT,
     ["meer dan twee decimalen", "0.105"]),
    ("6-decimal-incl", order_json(line("article", "12.100001", 21), total="12.100001"), DEFAULT,
     ["meer dan twee decimalen"]),
    ("3-decimal-incl-summing-to-cents",
     order_json(line("article", "0.105", 21, id="a"), line("article", "0.105", 21, id="b"),
                total="0.21"), DEFAULT, ["meer dan twee decimalen"]),
    ("line-without-price", order_json(line("article", "12.10", 21) | {"price": []},
                                      total="12.10"), DEFAULT, ["Orderregel 1", "geen prijs"]),
    ("non-eur", order_json(currency="USD"), DEFAULT, ["in USD", "alleen in euro"]),
    ("non-eur-lowercase", order_json(currency="gbp"), DEFAULT, ["in GBP"]),
    ("non-eur-credit", order_json(currency="USD", status=10), DEFAULT, ["in USD"]),
    ("order-number-too-long", order_json(number="9" * 51), DEFAULT,
     ["langer dan 50 tekens", "factuurnummer"]),
    ("unmapped-rate", order_json(line("article", "10.60", 6)), DEFAULT,
     ["BTW 6%", "geen BTW-code ingesteld", "Instellingen"]),
    ("unmapped-decimal-rate", order_json(line("article", "10.55", "5.5")), DEFAULT, ["BTW 5.5%"]),
    ("rate-21-removed", order_json(line("article", "12.10", 21)),
     without_rule(DEFAULT, "rate:21"), ["BTW 21%", "Instellingen"]),
    ("reverse-charge-unmapped", order_json(line("article", "100.00", 0),
                                           tax_strategy="reverse_charged_vat"),
     without_rule(DEFAULT, REVERSE_CHARGE), ["BTW verlegd", "Instellingen"]),
    ("export-unmapped", order_json(line("article", "100.00", 0), tax_strategy="zero_percent"),
     without_rule(DEFAULT, EXPORT), ["Export buiten de EU", "Instellingen"]),
    ("unknown-tax-strategy-is-not-guessed",
     order_json(line("article", "12.10", 21), tax_strategy="something_new", tax_region="DE"),
     DEFAULT, ["OSS-verkoop naar DE"]),
    ("oss-unmapped", order_json(line("article", "119.00", 19), tax_region="DE"), DEFAULT,
     ["OSS-verkoop naar DE tegen 19% btw", "Voeg bij Instellingen een regel voor DE 19% toe"]),
    ("oss-other-rate-unmapped", order_json(line("article", "10.70", 7), tax_region="DE"),
     settings(oss("DE", 19)), ["DE tegen 7%"]),
    ("oss-other-country-unmapped", order_json(line("article", "119.00", 19), tax_region="AT"),
     settings(oss("DE", 19)), ["naar AT"]),
    ("code-does-not-fit-rate", order_json(line("article", "12.10", 21)),
     settings(rule("rate:21", "LAAG_VERK_9", "8010")),
     ["Bij BTW 21% staat BTW-code LAAG_VERK_9", "21% btw", "Kies bij Instellingen"]),
    ("zero-code-at-9", order_json(line("article", "10.90", 9)),
     settings(rule("rate:9", "GEEN", "8000")), ["BTW-code GEEN", "9% btw"]),
    ("unknown-code", order_json(line("article", "12.10", 21)),
     settings(rule("rate:21", "HOOG_21", "8010")), ["BTW-code HOOG_21"]),
    ("reverse-charge-with-vat", order_json(line("article", "12.10", 21),
                                           tax_strategy="reverse_charged_vat"), DEFAULT,
     ["BTW verlegd", "BI_EU_VERK", "21% btw"]),
    ("export-with-vat", order_json(line("article", "12.10", 21), tax_strategy="zero_percent"),
     DEFAULT, ["Export", "BU_EU_VERK", "21% btw"]),
    ("oss-code-fixed-rate", order_json(line("article", "119.00", 19), tax_region="DE"),
     settings(oss("DE", 19, code="HOOG_VERK_21")), ["OSS DE 19%", "HOOG_VERK_21"]),
    ("missing-ledger", order_json(line("article", "12.10", 21)),
     settings(TaxRule("rate:21", "HOOG_VERK_21", {})),
     ["geen grootboekrekening voor omzet", "Vul die in bij Instellingen"]),
    ("missing-ledger-shipping", order_json(line("shipping", "4.95", 21)),
     settings(TaxRule("rate:21", "HOOG_VERK_21", {OMZET: "", VERZENDKOSTEN: ""})),
     ["geen grootboekrekening voor verzendkosten"]),
    ("missing-ledger-discount", order_json(line("article", "20.00", 21),
                                           line("discount", "-5.00", 21)),
     settings(TaxRule("rate:21", "HOOG_VERK_21", {KORTING: ""})), ["geen grootboekrekening"]),
    ("negative-total-not-credit", order_json(line("article", "-12.10", 21)), DEFAULT,
     ["negatief totaal", "€ -12.10", "geen creditbestelling"]),
    ("negative-total-by-discount", order_json(line("article", "5.00", 21),
                                              line("discount", "-6.00", 21)), DEFAULT,
     ["negatief totaal"]),
    ("no-customer", order_json(debtor={"email": ""}), DEFAULT,
     ["geen e-mailadres en geen naam"]),
    ("no-customer-at-all", order_json(debtor={}), DEFAULT, ["geen e-mailadres"]),
    ("name-too-long", order_json(debtor=debtor(name="N" * 101)), DEFAULT,
     ["bedrijfsnaam/naam", "101 tekens", "100 toe", "Mijnwebwinkel aan"]),
    ("company-too-long", order_json(debtor=debtor(company="C" * 101)), DEFAULT,
     ["bedrijfsnaam/naam", "101 tekens"]),
    ("contact-too-long", order_json(debtor=debtor(company="C", name="N" * 151)), DEFAULT,
     ["contactpersoon", "150 toe"]),
    ("address-too-long", order_json(debtor=debtor(street="S" * 140, number="1234567890")),
     DEFAULT, ["adres", "151 tekens", "150 toe"]),
    ("postcode-too-long", order_json(debtor=debtor(zipcode=LONG)), DEFAULT, ["postcode", "50"]),
    ("city-too-long", order_json(debtor=debtor(city=LONG)), DEFAULT, ["plaats", "51 tekens"]),
    ("country-too-long", order_json(debtor=debtor(country_code=LONG)), DEFAULT, ["land"]),
    ("email-too-long", order_json(debtor=debtor("e" * 140 + "@example.com")), DEFAULT,
     ["e-mailadres", "152 tekens", "150 toe"]),
    ("phone-too-long", order_json(debtor=debtor(phone=LONG)), DEFAULT, ["telefoonnummer"]),
    ("vat-number-too-long", order_json(debtor=debtor(taxnumber=LONG)), DEFAULT, ["btw-nummer"]),
    ("deprecated-name-too-long", order_json(debtor={"email": "a@example.com", "name": "N" * 101}),
     DEFAULT, ["bedrijfsnaam/naam"]),
]


@pytest.mark.parametrize(
    ("data", "mapping", "fragments"),
    [pytest.param(dt_, s, f, id=i) for i, dt_, s, f in ERROR_CASES],
)
def test_mapping_errors(data: Any, mapping: MappingSettings, fragments: list[str]) -> None:
    parsed = parse_order(data)
    with pytest.raises(MappingError) as excinfo:
        map_order(parsed, mapping)
    message = str(excinfo.value)
    for fragment in fragments:
        assert fragment in message
    assert excinfo.value.explanation == message  # Dutch, shown to the shop owner as is


@pytest.mark.parametrize(
    "overrides",
    [
        {"number": "9" * 50},
        {"debtor": debtor(name="N" * 100)},
        {"debtor": debtor(company="C" * 100, name="N" * 150)},
        {"debtor": debtor(street="S" * 139, number="1234567890")},
        {"debtor": debtor(zipcode="z" * 50, city="c" * 50, phone="p" * 50, taxnumber="t" * 50,
                          country_code="n" * 50)},
        {"debtor": debtor("e" * 138 + "@example.com")},
    ],
    ids=["number-50", "name-100", "contact-150", "address-150", "fields-50", "email-150"],
)
def test_fields_at_their_limits_are_booked(overrides: dict[str, Any]) -> None:
    booked(map_order(order(**overrides), DEFAULT))


# --- the relation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("klant@example.com", "KLANT@example.com"),
        ("klant@example.com", "  klant@example.com "),
        ("Klant@Example.COM", " klant@example.com\t"),
    ],
)
def test_relation_code_is_stable_per_email(a: str, b: str) -> None:
    first = map_order(order(debtor=debtor(a)), DEFAULT)
    second = map_order(order(number=1002, debtor=debtor(b, name="Iemand Anders")), DEFAULT)
    assert booked(first).relation.code == booked(second).relation.code
    assert relation_code("MWW", a) == relation_code("MWW", b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("klant@example.com", "klant2@example.com"), ("a@example.com", "a@example.nl")],
)
def test_relation_code_differs_per_email(a: str, b: str) -> None:
    assert relation_code("MWW", a) != relation_code("MWW", b)


@pytest.mark.parametrize(
    ("prefix", "starts"),
    [("MWW", "MWW"), ("", ""), ("WEBSHOP", "WEBSHOP"), ("VERYLONGPREFIX", "VERYLON"),
     ("A" * 40, "A" * 7)],
)
def test_relation_code_at_most_15(prefix: str, starts: str) -> None:
    result = booked(map_order(order(), settings(relation_prefix=prefix)))
    code = result.relation.code
    assert len(code) == MAX_RELATION_CODE == 15
    assert code.startswith(starts)
    assert code.isalnum()
    assert result.mutations[0].relation_code == code


def test_relation_code_known_value() -> None:
    # pinned: changing the derivation would create duplicate debtors for existing customers
    assert relation_code("MWW", "test@example.com") == "MWWS4674RR6ZBLY"
    assert booked(map_order(fixture_order(LIVE), DEFAULT)).relation.code == "MWWS4674RR6ZBLY"


RELATION_CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, str]]] = [
    ("private", {"debtor": debtor("jan@example.com", name="Jan Jansen")}, {},
     {"name": "Jan Jansen", "bp": "P", "contact": "", "address": "Molenstraat 62",
      "postcode": "5341GE", "city": "Oss", "country": "NL", "email": "jan@example.com",
      "phone": "06-12345678", "vat_number": ""}),
    ("company", {"debtor": debtor(company="Jansen BV", name="Jan Jansen",
                                  taxnumber="NL001234567B01")}, {},
     {"name": "Jansen BV", "bp": "B", "contact": "Jan Jansen", "vat_number": "NL001234567B01"}),
    ("b2b-without-company", {"business_model": "B2B"}, {}, {"bp": "B", "contact": ""}),
    ("no-house-number", {"debtor": debtor(number="")}, {}, {"address": "Molenstraat"}),
    ("foreign-country", {"debtor": debtor(country_code="be")}, {}, {"country": "BE"}),
    ("country-from-shipping", {"debtor": debtor(country_code=""),
                               "shipping": [{"country": {"isocode": "DE"}}]}, {},
     {"country": "DE"}),
    ("only-email", {"debtor": {"email": "x@example.com"}}, {},
     {"name": "x@example.com", "bp": "P", "email": "x@example.com", "country": "NL"}),
    ("deprecated-debtor-fields",
     {"debtor": {"email": "a@example.com", "name": "Ann", "company": "Ann BV", "phone": "010"}},
     {}, {"name": "Ann BV", "contact": "Ann", "bp": "B", "phone": "010", "address": ""}),
    ("no-email-uses-name", {"debtor": debtor("", name="Piet")}, {}, {"name": "Piet", "email": ""}),
]


@pytest.mark.parametrize(
    ("overrides", "mapping_changes", "expected"),
    [pytest.param(ov, mc, ex, id=i) for i, ov, mc, ex in RELATION_CASES],
)
def test_relation_fields(overrides: dict[str, Any], mapping_changes: dict[str, Any],
                         expected: dict[str, str]) -> None:
    relation = booked(map_order(order(**overrides), settings(**mapping_changes))).relation
    for name, value in expected.items():
        assert getattr(relation, name) == value, name


def test_relation_without_email_is_deterministic() -> None:
    a = build_relation(order(debtor=debtor("", name="Piet")), DEFAULT)
    b = build_relation(order(debtor=debtor("", name="PIET ")), DEFAULT)
    c = build_relation(order(debtor=debtor("", name="Piet", zipcode="1234AB")), DEFAULT)
    assert a.code == b.code != c.code
    assert len(a.code) == 15


def test_relation_to_wire() -> None:
    relation = booked(map_order(order(debtor=debtor(company="Jansen BV")), DEFAULT)).relation
    wire = relation.to_wire(dt.date(2025, 3, 14))
    assert wire["Code"] == relation.code
    assert wire["Bedrijf"] == "Jansen BV"
    assert wire["BP"] == "B"
    assert wire["Email"] == "klant@example.com"


# --- treatments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "rate", "treatment"),
    [
        ({}, 21, "rate:21"),
        ({}, "21.00", "rate:21"),
        ({}, "5.50", "rate:5.5"),
        ({}, 0, "rate:0"),
        ({"tax_region": "NL"}, 9, "rate:9"),
        ({"tax_region": "US"}, 21, "rate:21"),
        ({"tax_region": "DE"}, 19, "oss:DE:19"),
        ({"tax_region": "fr"}, "20.00", "oss:FR:20"),
        ({"tax_strategy": "reverse_charged_vat", "tax_region": "DE"}, 0, REVERSE_CHARGE),
        ({"tax_strategy": "zero_percent", "tax_region": "US"}, 0, EXPORT),
        ({"tax_strategy": "zero_percent", "tax_region": "DE"}, 0, EXPORT),
    ],
)
def test_treatment_for(overrides: dict[str, Any], rate: Any, treatment: str) -> None:
    assert treatment_for(order(**overrides), D(str(rate))) == treatment


@pytest.mark.parametrize(
    ("key", "label"),
    [("rate:21", "BTW 21%"), (REVERSE_CHARGE, "BTW verlegd (B2B binnen de EU)"),
     (EXPORT, "Export buiten de EU (0%)"), ("oss:DE:19", "OSS DE 19%"), ("other", "other")],
)
def test_describe_treatment(key: str, label: str) -> None:
    assert describe_treatment(key) == label


@pytest.mark.parametrize(
    ("rate", "text"),
    [(D("21.00"), "21"), (D("21"), "21"), (D("5.50"), "5.5"), (D("0.00"), "0"), (D("10"), "10"),
     (D("100"), "100")],
)
def test_rate_text(rate: Decimal, text: str) -> None:
    assert rate_text(rate) == text
    assert rate_key(rate) == f"rate:{text}"


# --- defaults reproduce the incumbent's screen ---------------------------------------------


@pytest.mark.parametrize(
    ("treatment", "code", "ledgers"),
    [
        ("rate:21", "HOOG_VERK_21", {OMZET: "8010", VERZENDKOSTEN: "8000", BETAALKOSTEN: "8000"}),
        ("rate:9", "LAAG_VERK_9", {OMZET: "8000", VERZENDKOSTEN: "8000", BETAALKOSTEN: "8000"}),
        ("rate:0", "GEEN", {OMZET: "8000", VERZENDKOSTEN: "8000", BETAALKOSTEN: "8000"}),
        (REVERSE_CHARGE, "BI_EU_VERK", {OMZET: "8000"}),
        (EXPORT, "BU_EU_VERK", {OMZET: "8000"}),
    ],
)
def test_default_rules(treatment: str, code: str, ledgers: dict[str, str]) -> None:
    found = DEFAULT.rule(treatment)
    assert found is not None
    assert found.btw_code == code
    for income, ledger in ledgers.items():
        assert found.ledger_for(income) == ledger


def test_default_settings() -> None:
    assert DEFAULT.debtors_ledger == "1300"
    assert DEFAULT.bookable_statuses == {2, 3, 6}
    assert DEFAULT.booking_mode == MODE_INVOICE
    assert DEFAULT.payment_term_days == 14
    assert DEFAULT.rules == DEFAULT_RULES
    assert validate(DEFAULT) == {}


# --- settings validation -------------------------------------------------------------------

KNOWN = {"1300", "1100", "8000", "8010"}

VALIDATE_CASES: list[tuple[str, MappingSettings, set[str] | None, dict[str, str]]] = [
    ("defaults", DEFAULT, None, {}),
    ("defaults-known-ledgers", DEFAULT, KNOWN, {}),
    ("incumbent-verl-verk", INCUMBENT, None, {}),
    ("oss-afw-verk", OSS_DE, None, {}),
    ("oss-zero-rate", settings(oss("AT", 0, code="AFST_VERK")), None, {}),
    ("reverse-charge-verl-verk", settings(rule(REVERSE_CHARGE, "VERL_VERK")), None, {}),
    ("cash-with-ledger", settings(booking_mode=MODE_CASH, payment_ledger=PSP), KNOWN, {}),
    ("unknown-code", settings(rule("rate:21", "HOOG_21", "8010")), None,
     {"rules.rate:21.btw_code": "Onbekende BTW-code 'HOOG_21' bij BTW 21%."}),
    ("code-rate-mismatch", settings(rule("rate:21", "LAAG_VERK_9", "8010")), None,
     {"rules.rate:21.btw_code": "BTW-code LAAG_VERK_9 hoort bij 9%, niet bij BTW 21%."}),
    ("zero-code-at-9", settings(rule("rate:9", "GEEN")), None,
     {"rules.rate:9.btw_code": "BTW-code GEEN hoort bij 0%, niet bij BTW 9%."}),
    ("vat-code-for-reverse-charge", settings(rule(REVERSE_CHARGE, "HOOG_VERK_21")), None,
     {"rules.reverse_charge.btw_code":
      "BTW-code HOOG_VERK_21 hoort bij 21%, niet bij BTW verlegd (B2B binnen de EU)."}),
    ("oss-fixed-code-wrong-rate", settings(oss("DE", 19, code="HOOG_VERK_21")), None,
     {"rules.oss:DE:19.btw_code": "BTW-code HOOG_VERK_21 hoort bij 21%, niet bij OSS DE 19%."}),
    # An unmapped payment method holds its payment back; it does not block the settings.
    ("cash-without-payment-ledgers", settings(booking_mode=MODE_CASH), None, {}),
    ("invoice-and-payment-without-ledgers", settings(booking_mode=MODE_INVOICE_AND_PAYMENT),
     None, {}),
    ("unknown-payment-method-ledger",
     settings(booking_mode=MODE_CASH, payment_ledgers={"ideal": "1234", "cadeau": "-"}), KNOWN,
     {"payment_ledgers.ideal": "Grootboekrekening 1234 bestaat niet in uw e-Boekhouden."}),
    ("unknown-booking-mode", settings(booking_mode="later"), None,
     {"booking_mode": "Kies hoe bestellingen geboekt worden."}),
    ("unknown-ledger", DEFAULT, {"1300", "8000"},
     {f"rules.rate:21.{income}": "Grootboekrekening 8010 bestaat niet in uw e-Boekhouden."
      for income in (OMZET, KORTING)}),
    ("unknown-debtors-ledger", settings(debtors_ledger="1301"), KNOWN,
     {"debtors_ledger": "Grootboekrekening 1301 bestaat niet in uw e-Boekhouden."}),
    ("empty-debtors-ledger", settings(debtors_ledger=""), None,
     {"debtors_ledger": "Kies een grootboekrekening voor debiteuren."}),
    ("ledger-too-long", settings(debtors_ledger="13000000000"), None,
     {"debtors_ledger": "Grootboekcode 13000000000 is langer dan 10 tekens."}),
    ("missing-ledger", settings(TaxRule("rate:9", "LAAG_VERK_9", {})), None,
     {f"rules.rate:9.{income}": f"Kies een grootboekrekening voor BTW 9% ({income})."
      for income in (OMZET, VERZENDKOSTEN, BETAALKOSTEN, KORTING)}),
    ("empty-statuses", settings(bookable_statuses=set()), None,
     {"bookable_statuses": "Kies minstens één orderstatus die geboekt wordt."}),
    ("negative-term", settings(payment_term_days=-1), None,
     {"payment_term_days": "De betalingstermijn is een aantal dagen (0 tot 9999)."}),
    ("term-too-long", settings(payment_term_days=10000), None,
     {"payment_term_days": "De betalingstermijn is een aantal dagen (0 tot 9999)."}),
]


@pytest.mark.parametrize(
    ("mapping", "known", "expected"),
    [pytest.param(s, k, e, id=i) for i, s, k, e in VALIDATE_CASES],
)
def test_validate(mapping: MappingSettings, known: set[str] | None,
                  expected: dict[str, str]) -> None:
    assert validate(mapping, known) == expected


@pytest.mark.parametrize(("code", "rate"), [(c, r) for c, r in BTW_CODE_RATES.items()])
def test_every_known_code_validates_at_its_rate(code: str, rate: Decimal | None) -> None:
    treatment = rate_key(rate) if rate is not None else oss_key("DE", D("19"))
    assert validate(settings(rule(treatment, code))) == {}


# --- settings JSON -------------------------------------------------------------------------

ROUNDTRIP = [
    DEFAULT,
    INCUMBENT,
    OSS_DE,
    KORTING_8900,
    settings(booking_mode=MODE_INVOICE_AND_PAYMENT, payment_ledger=PSP, debtors_ledger="1310",
             bookable_statuses={3}, credit_statuses={10, 11}, payment_term_days=30,
             relation_prefix="SHOP", status_names={2: "Verzonden", 3: "Betaald"}),
    settings(booking_mode=MODE_CASH, payment_ledger="1000", bookable_statuses=set(),
             payment_ledgers={"cash": "1000", "ideal": "1010", "webshop_giftcard": "-"}),
]


@pytest.mark.parametrize("mapping", ROUNDTRIP)
def test_settings_json_roundtrip(mapping: MappingSettings) -> None:
    stored = json.loads(json.dumps(mapping.to_json()))
    restored = MappingSettings.from_json(stored)
    assert restored == mapping
    assert restored.status_names == mapping.status_names  # compare=False, so check it
    assert restored.to_json() == mapping.to_json()


@pytest.mark.parametrize("data", [None, {}])
def test_settings_from_empty_json_are_the_defaults(data: dict[str, Any] | None) -> None:
    assert MappingSettings.from_json(data) == DEFAULT


def test_settings_from_json_normalises() -> None:
    restored = MappingSettings.from_json({
        "rules": [{"treatment": "rate:21", "btw_code": " hoog_verk_21 ",
                   "ledgers": {"omzet": " 8010 ", "verzendkosten": 8000}}],
        "debtors_ledger": 1300,
        "bookable_statuses": ["2", 3],
        "payment_term_days": "7",
        "payment_ledger": None,
        "status_names": {"2": "Verzonden"},
    })
    assert restored.rules == (TaxRule("rate:21", "HOOG_VERK_21",
                                      {"omzet": "8010", "verzendkosten": "8000"}),)
    assert restored.debtors_ledger == "1300"
    assert restored.bookable_statuses == {2, 3}
    assert restored.payment_term_days == 7
    assert restored.payment_ledger == ""
    assert restored.status_names == {2: "Verzonden"}
    assert restored.credit_statuses == DEFAULT.credit_statuses


def test_with_rule_replaces_the_treatment() -> None:
    changed = DEFAULT.with_rule(rule("rate:0", "VERL_VERK"))
    assert len(changed.rules) == len(DEFAULT.rules)
    assert changed.rule("rate:0") == rule("rate:0", "VERL_VERK")
    assert DEFAULT.rule("rate:0") is not None
    assert DEFAULT.rule("rate:0").btw_code == "GEEN"  # type: ignore[union-attr]
    assert changed.rule("oss:DE:19") is None


# --- purity --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "mapping"),
    [pytest.param(order_json(*ls, **ov), s, id=i) for i, ls, ov, s, _ in ORDER_CASES[:12]]
    + [pytest.param(payload(LIVE), DEFAULT, id="live")],
)
def test_map_order_is_pure(data: dict[str, Any], mapping: MappingSettings) -> None:
    parsed = parse_order(data)
    snapshot = (dataclasses.replace(parsed), mapping.to_json())
    first = map_order(parsed, mapping)
    assert map_order(parsed, mapping) == first
    assert map_order(parse_order(json.loads(json.dumps(data))), mapping) == first
    assert (parsed, mapping.to_json()) == snapshot
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.total = D(0)  # type: ignore[misc, union-attr]


def test_invalid_input_helpers_sanity() -> None:
    # the builders used above produce what the tables assume
    data = order_json(line("article", "12.10", 21), line("shipping", "4.95", 21))
    assert data["price"]["total"] == "17.05"
    assert without(data, "price.total")["price"] == {"tax": data["price"]["tax"]}
    assert with_value(data, "orderlines.1.type", "payment")["orderlines"][1]["type"] == "payment"


@pytest.mark.parametrize(
    ("mapping", "fragment"),
    [
        pytest.param(settings(booking_mode=MODE_CASH, payment_ledgers={"ideal": "12345678901"}),
                     "payment_ledgers.ideal", id="cash-bad-method-ledger"),
        pytest.param(settings(booking_mode="bogus"), "booking_mode", id="unknown-mode"),
        pytest.param(settings(debtors_ledger=""), "debtors_ledger", id="no-debtors-ledger"),
    ],
)
def test_incomplete_settings_refuse_to_book(mapping: MappingSettings, fragment: str) -> None:
    order = parse_order(order_json(line("article", "12.10", 21)))
    with pytest.raises(MappingError, match="niet compleet") as excinfo:
        map_order(order, mapping)
    assert fragment in str(excinfo.value)
