"""map_order skips and refusals: what is not booked, and why (Dutch reasons)."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.mapping import (
    Booking,
    Skip,
    map_order,
)
from app.core.mapping_settings import (
    EXPORT,
    KORTING,
    OMZET,
    REVERSE_CHARGE,
    VERZENDKOSTEN,
    MappingSettings,
    TaxRule,
)
from app.core.order_schema import parse_order
from app.errors import MappingError
from app.states import BookingMode
from tests.factories import (
    DEFAULT,
    b2b_eu,
    booked,
    debtor,
    export_to,
    line,
    order,
    order_json,
    oss,
    oss_to,
    rule,
    settings,
    split_line,
    tax_price,
    without_rule,
)

# --- skipped orders ------------------------------------------------------------------------

SKIP_CASES: list[tuple[str, dict[str, Any], MappingSettings, str, str]] = [
    ("test-order", {"number": "T-1001"}, DEFAULT, "test_order", "T-1001 is een testbestelling"),
    ("test-order-lowercase", {"number": "t-7"}, DEFAULT, "test_order", "testbestelling"),
    ("test-order-credit", {"number": "T-8", "status": 10}, DEFAULT, "test_order", "testbestelling"),
    (
        "test-order-non-eur",
        {"number": "T-9", "currency": "USD"},
        DEFAULT,
        "test_order",
        "testbestelling",
    ),
    (
        "test-order-bad-total",
        {"number": "T-9", "total": "99.99"},
        DEFAULT,
        "test_order",
        "testbestelling",
    ),
    (
        "test-order-unbookable-status",
        {"number": "T-9", "status": 1},
        DEFAULT,
        "test_order",
        "testbestelling",
    ),
    ("status-1", {"status": 1}, DEFAULT, "status_not_bookable", "heeft status 1"),
    ("status-4", {"status": 4}, DEFAULT, "status_not_bookable", "die status wordt niet geboekt"),
    ("status-0", {"status": 0}, DEFAULT, "status_not_bookable", "status 0"),
    ("status-99", {"status": 99}, DEFAULT, "status_not_bookable", "status 99"),
    (
        "status-name",
        {"status": 1},
        settings(status_names={1: "Nieuw"}),
        "status_not_bookable",
        "Bestelling 1001 heeft Nieuw;",
    ),
    (
        "own-bookable-statuses",
        {"status": 2},
        settings(bookable_statuses={3}),
        "status_not_bookable",
        "status 2",
    ),
    (
        "credit-in-unbookable-status",
        {"status": 1, "credited_order_number": 1000},
        DEFAULT,
        "status_not_bookable",
        "status 1",
    ),
    (
        "credit-status-not-configured",
        {"status": 10},
        settings(credit_statuses={11}),
        "status_not_bookable",
        "status 10",
    ),
    (
        "credit-status-unbookable-for-non-credit",
        {"status": 11},
        settings(credit_statuses=set()),
        "status_not_bookable",
        "status 11",
    ),
    (
        "zero-total",
        {"total": "0.00", "orderlines": [line("article", "0.00", 21)]},
        DEFAULT,
        "zero_total",
        "€ 0,00",
    ),
    ("zero-total-no-lines", {"total": "0", "orderlines": []}, DEFAULT, "zero_total", "€ 0,00"),
    (
        "zero-total-discounted",
        {
            "total": "0.00",
            "orderlines": [line("article", "12.10", 21), line("discount", "-12.10", 21)],
            "price": {"tax": [], "total": "0.00"},
        },
        DEFAULT,
        "zero_total",
        "1001",
    ),
    (
        "zero-total-credit",
        {"status": 10, "total": "0.00", "orderlines": [line("article", "0.00", 21)]},
        DEFAULT,
        "zero_total",
        "€ 0,00",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "mapping", "code", "reason"),
    [pytest.param(ov, s, c, r, id=i) for i, ov, s, c, r in SKIP_CASES],
)
def test_skipped(
    overrides: dict[str, Any], mapping: MappingSettings, code: str, reason: str
) -> None:
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
    (
        "lines-do-not-add-up",
        order_json(line("article", "12.10", 21), total="13.00"),
        DEFAULT,
        ["tellen op tot € 12,10", "ordertotaal is € 13,00", "wordt niet geboekt"],
    ),
    (
        "one-cent-off",
        order_json(line("article", "12.10", 21), total="12.11"),
        DEFAULT,
        ["€ 12,10", "€ 12,11"],
    ),
    (
        "one-cent-off-credit",
        order_json(line("article", "12.10", 21), total="12.09", status=10),
        DEFAULT,
        ["€ 12,10", "€ 12,09"],
    ),
    (
        "credit-lines-of-the-other-sign",
        order_json(line("article", "-12.10", 21), total="12.10", status=10),
        DEFAULT,
        ["€ -12,10", "€ 12,10"],
    ),
    ("no-lines", order_json(total="10.00", orderlines=[]), DEFAULT, ["tellen op tot € 0,00"]),
    (
        "missing-amount-including-tax",
        order_json(_line_without_incl(), total="12.10"),
        DEFAULT,
        ["Orderregel 1", "geen bedrag inclusief btw"],
    ),
    (
        "missing-incl-in-split",
        order_json(
            line("article", "12.10", 21),
            split_line("payment", ("0.21", 9), ("0.79", 21))
            | {"price": [tax_price("0.21", 9), tax_price(None, 21, amount="0.65")]},
            total="13.10",
        ),
        DEFAULT,
        ["Orderregel 2", "geen bedrag inclusief btw"],
    ),
    (
        "3-decimal-incl",
        order_json(line("article", "0.105", 21), total="0.105"),
        DEFAULT,
        ["meer dan twee decimalen", "0.105"],
    ),
    (
        "6-decimal-incl",
        order_json(line("article", "12.100001", 21), total="12.100001"),
        DEFAULT,
        ["meer dan twee decimalen"],
    ),
    (
        "3-decimal-incl-summing-to-cents",
        order_json(
            line("article", "0.105", 21, id="a"), line("article", "0.105", 21, id="b"), total="0.21"
        ),
        DEFAULT,
        ["meer dan twee decimalen"],
    ),
    (
        "line-without-price",
        order_json(line("article", "12.10", 21) | {"price": []}, total="12.10"),
        DEFAULT,
        ["Orderregel 1", "geen prijs"],
    ),
    ("non-eur", order_json(currency="USD"), DEFAULT, ["in USD", "alleen in euro"]),
    ("non-eur-lowercase", order_json(currency="gbp"), DEFAULT, ["in GBP"]),
    ("non-eur-credit", order_json(currency="USD", status=10), DEFAULT, ["in USD"]),
    (
        "order-number-too-long",
        order_json(number="9" * 51),
        DEFAULT,
        ["langer dan 50 tekens", "factuurnummer"],
    ),
    (
        "unmapped-rate",
        order_json(line("article", "10.60", 6)),
        DEFAULT,
        ["BTW 6%", "geen BTW-code ingesteld", "Instellingen"],
    ),
    ("unmapped-decimal-rate", order_json(line("article", "10.55", "5.5")), DEFAULT, ["BTW 5.5%"]),
    (
        "rate-21-removed",
        order_json(line("article", "12.10", 21)),
        without_rule(DEFAULT, "rate:21"),
        ["BTW 21%", "Instellingen"],
    ),
    (
        "reverse-charge-unmapped",
        order_json(line("article", "100.00", 0), **b2b_eu()),
        without_rule(DEFAULT, REVERSE_CHARGE),
        ["BTW verlegd", "Instellingen"],
    ),
    (
        "export-unmapped",
        order_json(line("article", "100.00", 0), **export_to()),
        without_rule(DEFAULT, EXPORT),
        ["Export buiten de EU", "Instellingen"],
    ),
    (
        "unknown-tax-strategy-is-not-guessed",
        order_json(
            line("article", "12.10", 21), **{**oss_to("DE"), "tax_strategy": "something_new"}
        ),
        DEFAULT,
        ["OSS-verkoop naar DE"],
    ),
    (
        "oss-unmapped",
        order_json(line("article", "119.00", 19), **oss_to("DE")),
        DEFAULT,
        [
            "OSS-verkoop naar DE tegen 19% btw",
            "Voeg bij Instellingen een regel voor DE 19%",
            "geen OSS-code",
        ],
    ),
    (
        "oss-other-rate-unmapped",
        order_json(line("article", "10.70", 7), **oss_to("DE")),
        settings(oss("DE", 19)),
        ["DE tegen 7%"],
    ),
    (
        "oss-other-country-unmapped",
        order_json(line("article", "119.00", 19), **oss_to("AT", "Wien", "1060")),
        settings(oss("DE", 19)),
        ["naar AT"],
    ),
    (
        "code-does-not-fit-rate",
        order_json(line("article", "12.10", 21)),
        settings(rule("rate:21", "LAAG_VERK_9", "8010")),
        ["Bij BTW 21% staat BTW-code LAAG_VERK_9", "21% btw", "Kies bij Instellingen"],
    ),
    (
        "zero-code-at-9",
        order_json(line("article", "10.90", 9)),
        settings(rule("rate:9", "GEEN", "8000")),
        ["BTW-code GEEN", "9% btw"],
    ),
    (
        "unknown-code",
        order_json(line("article", "12.10", 21)),
        settings(rule("rate:21", "HOOG_21", "8010")),
        ["BTW-code HOOG_21"],
    ),
    (
        "reverse-charge-with-vat",
        order_json(line("article", "12.10", 21), **b2b_eu()),
        DEFAULT,
        ["BTW verlegd", "BI_EU_VERK", "21% btw"],
    ),
    (
        "export-with-vat",
        order_json(line("article", "12.10", 21), **export_to()),
        DEFAULT,
        ["Export", "BU_EU_VERK", "21% btw"],
    ),
    (
        "oss-code-fixed-rate",
        order_json(line("article", "119.00", 19), **oss_to("DE")),
        settings(oss("DE", 19, code="HOOG_VERK_21")),
        ["OSS DE 19%", "HOOG_VERK_21"],
    ),
    (
        "missing-ledger",
        order_json(line("article", "12.10", 21)),
        settings(TaxRule("rate:21", "HOOG_VERK_21", {})),
        ["geen grootboekrekening voor omzet", "Vul die in bij Instellingen"],
    ),
    (
        "missing-ledger-shipping",
        order_json(line("shipping", "4.95", 21)),
        settings(TaxRule("rate:21", "HOOG_VERK_21", {OMZET: "", VERZENDKOSTEN: ""})),
        ["geen grootboekrekening voor verzendkosten"],
    ),
    (
        "missing-ledger-discount",
        order_json(line("article", "20.00", 21), line("discount", "-5.00", 21)),
        settings(TaxRule("rate:21", "HOOG_VERK_21", {KORTING: ""})),
        ["geen grootboekrekening"],
    ),
    (
        "negative-total-not-credit",
        order_json(line("article", "-12.10", 21)),
        DEFAULT,
        ["negatief totaal", "€ -12,10", "geen creditbestelling"],
    ),
    (
        "negative-total-by-discount",
        order_json(line("article", "5.00", 21), line("discount", "-6.00", 21)),
        DEFAULT,
        ["negatief totaal"],
    ),
    ("no-customer", order_json(debtor={"email": ""}), DEFAULT, ["geen e-mailadres en geen naam"]),
    ("no-customer-at-all", order_json(debtor={}), DEFAULT, ["geen e-mailadres"]),
    (
        "name-too-long",
        order_json(debtor=debtor(name="N" * 101)),
        DEFAULT,
        ["bedrijfsnaam/naam", "101 tekens", "100 toe", "Mijnwebwinkel aan"],
    ),
    (
        "company-too-long",
        order_json(debtor=debtor(company="C" * 101)),
        DEFAULT,
        ["bedrijfsnaam/naam", "101 tekens"],
    ),
    (
        "contact-too-long",
        order_json(debtor=debtor(company="C", name="N" * 151)),
        DEFAULT,
        ["contactpersoon", "150 toe"],
    ),
    (
        "address-too-long",
        order_json(debtor=debtor(street="S" * 140, number="1234567890")),
        DEFAULT,
        ["adres", "151 tekens", "150 toe"],
    ),
    ("postcode-too-long", order_json(debtor=debtor(zipcode=LONG)), DEFAULT, ["postcode", "50"]),
    ("city-too-long", order_json(debtor=debtor(city=LONG)), DEFAULT, ["plaats", "51 tekens"]),
    ("country-too-long", order_json(debtor=debtor(country_code=LONG)), DEFAULT, ["land"]),
    (
        "email-too-long",
        order_json(debtor=debtor("e" * 140 + "@example.com")),
        DEFAULT,
        ["e-mailadres", "152 tekens", "150 toe"],
    ),
    ("phone-too-long", order_json(debtor=debtor(phone=LONG)), DEFAULT, ["telefoonnummer"]),
    ("vat-number-too-long", order_json(debtor=debtor(taxnumber=LONG)), DEFAULT, ["btw-nummer"]),
    (
        "deprecated-name-too-long",
        order_json(debtor={"email": "a@example.com", "name": "N" * 101}),
        DEFAULT,
        ["bedrijfsnaam/naam"],
    ),
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
        {
            "debtor": debtor(
                zipcode="z" * 50,
                city="c" * 50,
                phone="p" * 50,
                taxnumber="t" * 50,
                country_code="n" * 50,
            )
        },
        {"debtor": debtor("e" * 138 + "@example.com")},
    ],
    ids=["number-50", "name-100", "contact-150", "address-150", "fields-50", "email-150"],
)
def test_fields_at_their_limits_are_booked(overrides: dict[str, Any]) -> None:
    booked(map_order(order(**overrides), DEFAULT))


@pytest.mark.parametrize(
    ("mapping", "fragment"),
    [
        pytest.param(
            settings(booking_mode=BookingMode.CASH, payment_ledgers={"ideal": "12345678901"}),
            "payment_ledgers.ideal",
            id="cash-bad-method-ledger",
        ),
        pytest.param(settings(debtors_ledger=""), "debtors_ledger", id="no-debtors-ledger"),
    ],
)
def test_incomplete_settings_refuse_to_book(mapping: MappingSettings, fragment: str) -> None:
    order = parse_order(order_json(line("article", "12.10", 21)))
    with pytest.raises(MappingError, match="niet compleet") as excinfo:
        map_order(order, mapping)
    assert fragment in str(excinfo.value)
