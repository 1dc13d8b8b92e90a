"""Issue 24 in the core: OSS rows per member state and rate against the EU rates table,
services apart from goods, distance sales under the threshold, and the invoice date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from app.core.eu_vat import rate_problem, rate_table, rates_of
from app.core.mapping import map_order
from app.core.mapping_settings import (
    EU_COUNTRIES,
    OMZET,
    OSS_VAT,
    VERZENDKOSTEN,
    MappingSettings,
    TaxRule,
)
from app.core.oss import OssAmount
from app.core.settings_checks import validate
from app.core.tax_point import period_name
from app.errors import MappingError
from app.states import BookingMode, VatPeriod
from tests.factories import (
    DEFAULT,
    D,
    b2b_eu,
    booked,
    export_to,
    line,
    order,
    oss,
    oss_to,
    rows,
    settings,
)

# --- the EU rates table ------------------------------------------------------------------


def test_the_table_names_its_sources_and_date_and_covers_every_member_state() -> None:
    table = rate_table()
    assert set(table.rates) == EU_COUNTRIES
    assert table.sources and "European Commission" in table.sources[0]
    assert table.checked >= dt.date(2025, 1, 1)
    for country in EU_COUNTRIES:  # every state has a standard rate of 15% or more
        assert max(rates_of(country, dt.date(2025, 3, 14))) >= 15


@pytest.mark.parametrize(
    ("country", "rate", "day", "ok"),
    [
        ("DE", "19", None, True),
        ("DE", "7", dt.date(2025, 3, 14), True),
        ("FR", "5.5", None, True),
        ("FR", "7", None, False),  # the example: France has no 7%
        ("FR", "19", None, False),
        ("BE", "5.5", None, False),
        ("RO", "19", dt.date(2025, 7, 31), True),
        ("RO", "19", dt.date(2025, 8, 1), False),  # 21% from 1 August 2025
        ("RO", "21", dt.date(2025, 8, 1), True),
        ("SK", "20", dt.date(2025, 1, 1), False),  # 23% from 2025
        ("FI", "25.5", dt.date(2024, 9, 1), True),
        ("FI", "24", dt.date(2024, 9, 1), False),
        ("NL", "21", None, True),
        ("XX", "21", None, False),
    ],
)
def test_rate_against_the_table(country: str, rate: str, day: dt.date | None, ok: bool) -> None:
    assert (rate_problem(country, Decimal(rate), day) is None) == ok


def test_the_reason_names_the_countrys_rates() -> None:
    reason = rate_problem("FR", Decimal("7"))
    assert reason is not None
    assert "Frankrijk (FR) kent geen btw-tarief van 7%" in reason
    assert "20%, 10%, 5,5%, 2,1%" in reason and "Europese Commissie" in reason
    old = rate_problem("RO", Decimal("19"), dt.date(2025, 9, 1))
    assert old is not None and "gold daar op een andere datum" in old


# --- OSS rows: their own ledgers, a rate of the country ----------------------------------

OSS_SETTINGS_CASES: list[tuple[str, MappingSettings, dict[str, str]]] = [
    ("per-state", settings(oss("DE", 19), oss("DE", 7)), {}),
    (
        "per-state-and-rate",
        settings(oss("DE", 19), oss("DE", 7, ledger="8021", vat_ledger="1621")),
        {},
    ),
    (
        "two-states-one-revenue-ledger",
        settings(oss("DE", 19), oss("FR", 20, vat_ledger="1630")),
        {"rules.oss:DE:19.omzet": "8020 wordt ook gebruikt voor OSS FR 20%"},
    ),
    (
        "two-states-one-vat-ledger",
        settings(oss("DE", 19), oss("FR", 20, ledger="8030")),
        {"rules.oss:FR:20.oss_btw": "1620 wordt ook gebruikt voor OSS DE 19%"},
    ),
    (
        "domestic-revenue-ledger",
        settings(oss("DE", 19, ledger="8010")),
        {"rules.oss:DE:19.omzet": "8010 wordt ook gebruikt voor BTW 21%"},
    ),
    (
        "revenue-and-vat-on-one-ledger",
        settings(oss("DE", 19, ledger="1620")),
        {"rules.oss:DE:19.oss_btw": "1620 wordt ook gebruikt voor OSS DE 19%"},
    ),
    (
        "vat-on-the-debtors-ledger",
        settings(oss("DE", 19, vat_ledger="1300")),
        {"rules.oss:DE:19.oss_btw": "1300 wordt ook gebruikt voor debiteuren"},
    ),
    (
        "shipping-of-another-state",
        settings(
            oss("DE", 19),
            TaxRule(
                "oss:FR:20", "AFST_VERK", {OMZET: "8030", VERZENDKOSTEN: "8020", OSS_VAT: "1630"}
            ),
        ),
        {"rules.oss:FR:20.verzendkosten": "8020 wordt ook gebruikt voor OSS DE 19%"},
    ),
    (
        "rate-the-country-does-not-have",
        settings(oss("FR", 7, ledger="8030", vat_ledger="1630")),
        {"rules.oss:FR:7.rate": "Frankrijk (FR) kent geen btw-tarief van 7%"},
    ),
]


@pytest.mark.parametrize(
    ("mapping", "expected"), [pytest.param(m, e, id=i) for i, m, e in OSS_SETTINGS_CASES]
)
def test_oss_rows_keep_their_own_ledgers_and_a_real_rate(
    mapping: MappingSettings, expected: dict[str, str]
) -> None:
    problems = {k: v for k, v in validate(mapping).items() if ".oss:" in k}
    assert set(expected) <= set(problems)  # both rows' fields that share are named
    assert bool(problems) == bool(expected)
    for field, fragment in expected.items():
        assert fragment in problems[field]
    for text in problems.values():
        assert "eigen" in text or "kent geen btw-tarief" in text


def test_a_shared_ledger_refuses_the_booking_too() -> None:
    """Settings saved before the rule: the order fails with the reason, not booked."""
    shared = settings(oss("DE", 19), oss("FR", 20, vat_ledger="1630"))
    with pytest.raises(MappingError, match="8020 wordt ook gebruikt voor OSS FR 20%"):
        map_order(order(line("article", "119.00", 19), **oss_to("DE")), shared)


def test_an_oss_rate_no_longer_valid_on_the_invoice_date_is_refused() -> None:
    mapping = settings(oss("RO", 19, ledger="8060", vat_ledger="1660"))
    sale = oss_to("RO", "Cluj", "400001")
    booked(map_order(order(line("article", "119.00", 19), **sale, date="2025-07-31"), mapping))
    with pytest.raises(MappingError, match="op 01-08-2025 geen btw-tarief van 19%"):
        map_order(order(line("article", "119.00", 19), **sale, date="2025-08-01"), mapping)


def test_oss_amounts_per_state_and_rate() -> None:
    result = booked(
        map_order(
            order(line("article", "119.00", 19), line("article", "10.70", 7), **oss_to("DE")),
            settings(oss("DE", 19), oss("DE", 7)),
        )
    )
    assert result.oss == (
        OssAmount("DE", D("19"), D("100.00"), D("19.00")),
        OssAmount("DE", D("7"), D("10.00"), D("0.70")),
    )
    credit = booked(
        map_order(
            order(line("article", "119.00", 19), status=10, **oss_to("DE")),
            settings(oss("DE", 19)),
        )
    )
    assert credit.oss == (OssAmount("DE", D("19"), D("-100.00"), D("-19.00")),)


# --- services apart from goods -------------------------------------------------------------

SERVICE_CASES: list[tuple[str, list[dict[str, Any]], dict[str, Any], list[str]]] = [
    (
        "reverse-charge-digital",
        [line("digital", "100.00", 0)],
        b2b_eu("BE"),
        ["BI_EU_VERK_D 8000 100.00 100.00 0.00"],
    ),
    (
        "reverse-charge-goods-and-digital",
        [line("article", "100.00", 0), line("digital", "50.00", 0), line("shipping", "5.00", 0)],
        b2b_eu("BE"),
        ["BI_EU_VERK 8000 105.00 105.00 0.00", "BI_EU_VERK_D 8000 50.00 50.00 0.00"],
    ),
    (
        "reverse-charge-services-with-costs",
        [line("digital", "100.00", 0), line("payment", "1.00", 0)],
        b2b_eu("BE"),
        ["BI_EU_VERK_D 8000 101.00 101.00 0.00"],
    ),
    (
        "export-digital-keeps-the-export-code",
        [line("digital", "100.00", 0)],
        export_to("US"),
        ["BU_EU_VERK 8000 100.00 100.00 0.00"],
    ),
    (
        "domestic-digital",
        [line("digital", "12.10", 21)],
        {},
        ["HOOG_VERK_21 8010 12.10 10.00 2.10"],
    ),
]


@pytest.mark.parametrize(
    ("lines", "overrides", "expected"),
    [pytest.param(ls, o, e, id=i) for i, ls, o, e in SERVICE_CASES],
)
def test_services_get_the_services_code_under_reverse_charge(
    lines: list[dict[str, Any]], overrides: dict[str, Any], expected: list[str]
) -> None:
    assert rows(map_order(order(*lines, **overrides), DEFAULT)) == expected


def test_a_service_to_a_consumer_abroad_at_its_vat_is_not_guessed() -> None:
    with pytest.raises(
        MappingError, match="geen code: afstandsverkopen \\(AFST_VERK\\) zijn goederen"
    ):
        map_order(order(line("digital", "119.00", 19), **oss_to("DE")), settings(oss("DE", 19)))


# --- distance sales with Dutch VAT ------------------------------------------------------------

BELGIAN_CONSUMER = {
    "tax_region": "NL",
    "shipping": [{"country": {"isocode": "BE"}}],
    "debtor": {
        "email": "a@example.be",
        "address": {"invoice": {"name": "A", "country_code": "BE"}},
    },
}


def test_under_the_threshold_dutch_vat_is_booked_with_a_note() -> None:
    result = booked(map_order(order(line("article", "12.10", 21), **BELGIAN_CONSUMER), DEFAULT))
    assert rows(result) == ["HOOG_VERK_21 8010 12.10 10.00 2.10"]
    [note] = result.notes
    assert note.startswith("Ter informatie: afstandsverkoop naar BE met Nederlandse btw")
    assert "€ 10.000" in note


def test_a_shop_that_uses_oss_does_not_book_dutch_vat_abroad() -> None:
    with pytest.raises(MappingError) as refused:
        map_order(order(line("article", "12.10", 21), **BELGIAN_CONSUMER), settings(oss("DE", 19)))
    assert "verzendland BE" in str(refused.value) and "via OSS" in str(refused.value)


# --- the invoice date against the VAT period of payment or shipping -----------------------

TAX_POINT_CASES = [
    ("same-quarter", "2025-03-14", "2025-03-20", VatPeriod.QUARTER, BookingMode.INVOICE, None),
    (
        "next-quarter",
        "2025-03-31",
        "2025-04-02",
        VatPeriod.QUARTER,
        BookingMode.INVOICE,
        "1e kwartaal 2025",
    ),
    ("next-month-quarterly", "2025-01-31", "2025-02-01", VatPeriod.QUARTER, "invoice", None),
    ("next-month", "2025-01-31", "2025-02-01", VatPeriod.MONTH, "invoice", "januari 2025"),
    ("next-year", "2024-12-31", "2025-01-02", VatPeriod.YEAR, "invoice_and_payment", "2024"),
    ("cash-books-the-payment-date", "2025-03-31", "2025-04-02", VatPeriod.QUARTER, "cash", None),
]


@pytest.mark.parametrize(
    ("ordered", "changed", "period", "mode", "fragment"),
    [pytest.param(o, c, p, m, f, id=i) for i, o, c, p, m, f in TAX_POINT_CASES],
)
def test_an_invoice_date_in_an_earlier_vat_period_is_noted(
    ordered: str, changed: str, period: VatPeriod, mode: str, fragment: str | None
) -> None:
    sale = order(
        line("article", "12.10", 21),
        date=ordered,
        status_changed_date=changed,
        status_changed_time="09:00:00",
        payment_status="captured",
    )
    mapping = settings(vat_period=period, booking_mode=BookingMode(mode), payment_ledger="1100")
    result = booked(map_order(sale, mapping))
    notes = [n for n in result.notes if "factuurdatum" in n]
    if fragment is None:
        assert notes == []
    else:
        [note] = notes
        assert f"btw-tijdvak {fragment}" in note and "suppletie" in note
        assert result.mutations[0].date == dt.date.fromisoformat(ordered)


def test_period_names() -> None:
    day = dt.date(2025, 11, 2)
    assert period_name(day, VatPeriod.MONTH) == "november 2025"
    assert period_name(day, VatPeriod.QUARTER) == "4e kwartaal 2025"
    assert period_name(day, VatPeriod.YEAR) == "2025"


def test_credit_orders_carry_no_tax_point_note() -> None:
    credit = order(
        line("article", "12.10", 21),
        status=10,
        date="2025-03-31",
        status_changed_date="2025-04-02",
    )
    assert booked(map_order(credit, DEFAULT)).notes == ()
