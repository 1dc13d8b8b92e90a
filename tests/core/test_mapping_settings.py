"""Mapping settings: the incumbent's defaults, validation and the stored JSON."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from app.core.mapping import map_order
from app.core.mapping_settings import (
    BETAALKOSTEN,
    BTW_CODE_RATES,
    DEFAULT_RULES,
    EXPORT,
    KORTING,
    OMZET,
    REVERSE_CHARGE,
    VERZENDKOSTEN,
    MappingSettings,
    TaxRule,
    invoice_number,
    rate_key,
)
from app.core.settings_checks import validate
from app.errors import MappingError
from app.states import BookingMode
from tests.factories import (
    DEFAULT,
    INCUMBENT,
    KORTING_8900,
    OSS_DE,
    PSP,
    D,
    order,
    oss,
    rule,
    settings,
)

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
    assert DEFAULT.booking_mode == BookingMode.INVOICE
    assert DEFAULT.payment_term_days == 14
    assert DEFAULT.rules == DEFAULT_RULES
    assert validate(DEFAULT) == {}


# --- settings validation -------------------------------------------------------------------

KNOWN = {"1300", "1100", "8000", "8010"}

VALIDATE_CASES: list[tuple[str, MappingSettings, set[str] | None, dict[str, str]]] = [
    ("defaults", DEFAULT, None, {}),
    ("defaults-known-ledgers", DEFAULT, KNOWN, {}),
    ("incumbent-verl-verk", INCUMBENT, None, {}),
    ("oss-de", OSS_DE, None, {}),
    ("oss-zero-rate", settings(oss("AT", 0)), None, {}),
    ("reverse-charge-verl-verk", settings(rule(REVERSE_CHARGE, "VERL_VERK")), None, {}),
    ("cash-with-ledger", settings(booking_mode=BookingMode.CASH, payment_ledger=PSP), KNOWN, {}),
    (
        "unknown-code",
        settings(rule("rate:21", "HOOG_21", "8010")),
        None,
        {"rules.rate:21.btw_code": "Onbekende BTW-code 'HOOG_21' bij BTW 21%."},
    ),
    (
        "code-rate-mismatch",
        settings(rule("rate:21", "LAAG_VERK_9", "8010")),
        None,
        {"rules.rate:21.btw_code": "BTW-code LAAG_VERK_9 hoort bij 9%, niet bij BTW 21%."},
    ),
    (
        "zero-code-at-9",
        settings(rule("rate:9", "GEEN")),
        None,
        {"rules.rate:9.btw_code": "BTW-code GEEN hoort bij 0%, niet bij BTW 9%."},
    ),
    (
        "vat-code-for-reverse-charge",
        settings(rule(REVERSE_CHARGE, "HOOG_VERK_21")),
        None,
        {
            "rules.reverse_charge.btw_code": (
                "BTW-code HOOG_VERK_21 hoort bij 21%, niet bij BTW verlegd (B2B binnen de EU)."
            )
        },
    ),
    (
        "oss-fixed-code-wrong-rate",
        settings(oss("DE", 19, code="HOOG_VERK_21")),
        None,
        {
            "rules.oss:DE:19.btw_code": "Bij OSS DE 19% staat BTW-code HOOG_VERK_21, maar "
            "e-Boekhouden heeft geen OSS-code: kies AFST_VERK (afstandsverkopen binnen de EU, "
            "0%). Die omzet hoort in rubriek 3c van de Nederlandse btw-aangifte; de btw van DE "
            "komt op de rekening 'te betalen OSS-btw'."
        },
    ),
    # An unmapped payment method holds its payment back; it does not block the settings.
    ("cash-without-payment-ledgers", settings(booking_mode=BookingMode.CASH), None, {}),
    (
        "invoice-and-payment-without-ledgers",
        settings(booking_mode=BookingMode.INVOICE_AND_PAYMENT),
        None,
        {},
    ),
    (
        "unknown-payment-method-ledger",
        settings(booking_mode=BookingMode.CASH, payment_ledgers={"ideal": "1234", "cadeau": "-"}),
        KNOWN,
        {"payment_ledgers.ideal": "Grootboekrekening 1234 bestaat niet in uw e-Boekhouden."},
    ),
    (
        "unknown-ledger",
        DEFAULT,
        {"1300", "8000"},
        {
            f"rules.rate:21.{income}": "Grootboekrekening 8010 bestaat niet in uw e-Boekhouden."
            for income in (OMZET, KORTING)
        },
    ),
    (
        "unknown-debtors-ledger",
        settings(debtors_ledger="1301"),
        KNOWN,
        {"debtors_ledger": "Grootboekrekening 1301 bestaat niet in uw e-Boekhouden."},
    ),
    (
        "empty-debtors-ledger",
        settings(debtors_ledger=""),
        None,
        {"debtors_ledger": "Kies een grootboekrekening voor debiteuren."},
    ),
    (
        "ledger-too-long",
        settings(debtors_ledger="13000000000"),
        None,
        {"debtors_ledger": "Grootboekcode 13000000000 is langer dan 10 tekens."},
    ),
    (
        "missing-ledger",
        settings(TaxRule("rate:9", "LAAG_VERK_9", {})),
        None,
        {
            f"rules.rate:9.{income}": f"Kies een grootboekrekening voor BTW 9% ({income})."
            for income in (OMZET, VERZENDKOSTEN, BETAALKOSTEN, KORTING)
        },
    ),
    (
        "empty-statuses",
        settings(bookable_statuses=set()),
        None,
        {"bookable_statuses": "Kies minstens één orderstatus die geboekt wordt."},
    ),
    (
        "negative-term",
        settings(payment_term_days=-1),
        None,
        {"payment_term_days": "De betalingstermijn is een aantal dagen (0 tot 9999)."},
    ),
    (
        "term-too-long",
        settings(payment_term_days=10000),
        None,
        {"payment_term_days": "De betalingstermijn is een aantal dagen (0 tot 9999)."},
    ),
    ("collective-debtor", settings(collective_debtor="PARTICULIER"), None, {}),
    (
        "collective-debtor-too-long",
        settings(collective_debtor="P" * 16),
        None,
        {
            "collective_debtor": "Een relatiecode is hoogstens 15 tekens, zonder spaties aan "
            "begin of eind."
        },
    ),
]


@pytest.mark.parametrize(
    ("mapping", "known", "expected"),
    [pytest.param(s, k, e, id=i) for i, s, k, e in VALIDATE_CASES],
)
def test_validate(
    mapping: MappingSettings, known: set[str] | None, expected: dict[str, str]
) -> None:
    assert validate(mapping, known) == expected


@pytest.mark.parametrize(("code", "rate"), [(c, r) for c, r in BTW_CODE_RATES.items()])
def test_every_known_code_validates_at_its_rate(code: str, rate: Decimal | None) -> None:
    # codes without a fixed rate (AFW, AFW_VERK) are deviating Dutch rates, not OSS codes
    treatment = rate_key(rate) if rate is not None else rate_key(D("5.5"))
    assert validate(settings(rule(treatment, code))) == {}


# --- settings JSON -------------------------------------------------------------------------

ROUNDTRIP = [
    DEFAULT,
    INCUMBENT,
    OSS_DE,
    KORTING_8900,
    settings(
        booking_mode=BookingMode.INVOICE_AND_PAYMENT,
        payment_ledger=PSP,
        debtors_ledger="1310",
        bookable_statuses={3},
        credit_statuses={10, 11},
        payment_term_days=30,
        relation_prefix="SHOP",
        status_names={2: "Verzonden", 3: "Betaald"},
    ),
    settings(booking_mode=BookingMode.CASH, payment_ledger="1000", bookable_statuses=set()),
    settings(collective_debtor="PARTICULIER"),
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
    restored = MappingSettings.from_json(
        {
            "rules": [
                {
                    "treatment": "rate:21",
                    "btw_code": " hoog_verk_21 ",
                    "ledgers": {"omzet": " 8010 ", "verzendkosten": 8000},
                }
            ],
            "debtors_ledger": 1300,
            "bookable_statuses": ["2", 3],
            "payment_term_days": "7",
            "payment_ledger": None,
            "status_names": {"2": "Verzonden"},
        }
    )
    assert restored.rules == (
        TaxRule("rate:21", "HOOG_VERK_21", {"omzet": "8010", "verzendkosten": "8000"}),
    )
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


# --- invoice-number format and line-type ledgers ------------------------------------------


@pytest.mark.parametrize(
    ("invoice_format", "problem"),
    [
        ("{number}", None),
        ("W1-{number}", None),
        ("{number}/W1", None),
        ("MWW{number}-NL", None),
        ("W" * 40 + "{number}", None),
        ("W1-", "precies één keer {number}"),
        ("{number}-{number}", "precies één keer {number}"),
        ("W1-{nummer}{number}", "zonder accolades"),
        (" W1-{number}", "spaties aan begin en eind"),
        ("W1\t{number}", "zonder accolades of spaties"),
        ("W" * 41 + "{number}", "50 tekens"),
    ],
)
def test_invoice_format(invoice_format: str, problem: str | None) -> None:
    errors = validate(settings(invoice_format=invoice_format))
    if problem is None:
        assert "invoice_format" not in errors
    else:
        assert problem in errors["invoice_format"]


def test_invoice_number_fills_in_the_order_number() -> None:
    assert invoice_number("{number}", "7001") == "7001"
    assert invoice_number("W1-{number}", "7001") == "W1-7001"
    assert invoice_number("{number}/B", "T-1") == "T-1/B"


@pytest.mark.parametrize(
    ("ledgers", "errors"),
    [
        ({"gift_card": "1650"}, {}),
        (
            {"gift_card": ""},
            {"line_types.gift_card": "Kies een grootboekrekening voor orderregels 'gift_card'."},
        ),
        (
            {"gift_card": "16500000000"},
            {"line_types.gift_card": "Grootboekcode 16500000000 is langer dan 10 tekens."},
        ),
        (
            {"x" * 41: "1650"},
            {f"line_types.{'x' * 41}": f"Onbekende soort orderregel {'x' * 41!r}."},
        ),
    ],
)
def test_line_type_ledgers_are_validated(ledgers: dict[str, str], errors: dict[str, str]) -> None:
    assert validate(settings(line_type_ledgers=ledgers)) == errors


def test_unknown_line_type_ledger_against_the_chart() -> None:
    problems = validate(settings(line_type_ledgers={"gift_card": "1650"}), KNOWN)
    assert problems == {
        "line_types.gift_card": "Grootboekrekening 1650 bestaat niet in uw e-Boekhouden."
    }


def test_new_settings_roundtrip_and_defaults() -> None:
    mapping = settings(invoice_format="W1-{number}", line_type_ledgers={"gift_card": "1650"})
    assert MappingSettings.from_json(json.loads(json.dumps(mapping.to_json()))) == mapping
    old = MappingSettings.from_json({"debtors_ledger": "1300"})  # stored before these fields
    assert old.invoice_format == "{number}"
    assert old.collective_debtor == ""
    assert old.line_type_ledgers == {}
    normalised = MappingSettings.from_json(
        {"invoice_format": " W1-{number} ", "line_type_ledgers": {" Gift_Card ": " 1650 "}}
    )
    assert normalised.invoice_format == "W1-{number}"
    assert normalised.line_type_ledgers == {"gift_card": "1650"}


def test_incomplete_invoice_format_refuses_to_book() -> None:
    with pytest.raises(MappingError, match="invoice_format"):
        map_order(order(), settings(invoice_format="W1-"))


@pytest.mark.parametrize("stored", ["later", "CASH ", 3])
def test_an_unknown_booking_mode_is_refused_when_read(stored: object) -> None:
    """The mode is a BookingMode once read: a mapping file naming another is refused
    (saying which field), never read as the default."""
    with pytest.raises(ValueError, match="booking_mode"):
        MappingSettings.from_json({"booking_mode": stored})


def test_a_missing_booking_mode_is_the_default() -> None:
    assert MappingSettings.from_json({}).booking_mode == BookingMode.INVOICE
