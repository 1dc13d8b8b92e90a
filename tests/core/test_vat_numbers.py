"""The form of EU VAT numbers (country prefix and pattern), per member state."""

from __future__ import annotations

import pytest

from app.core.vat_codes import EU_COUNTRIES
from app.core.vat_numbers import PATTERNS, normalise, problem

VALID = [
    "ATU12345678",
    "BE0123456789",
    "BE1234567890",
    "BG123456789",
    "BG1234567890",
    "CY12345678X",
    "CZ12345678",
    "CZ1234567890",
    "DE123456789",
    "DK12345678",
    "EE123456789",
    "EL123456789",
    "ESX1234567X",
    "ES12345678Z",
    "FI12345678",
    "FRXX123456789",
    "FR12345678901",
    "HR12345678901",
    "HU12345678",
    "IE1234567T",
    "IE1234567WA",
    "IE1A23456T",
    "IT12345678901",
    "LT123456789",
    "LT123456789012",
    "LU12345678",
    "LV12345678901",
    "MT12345678",
    "NL123456789B01",
    "PL1234567890",
    "PT123456789",
    "RO12",
    "RO1234567890",
    "SE123456789001",
    "SI12345678",
    "SK1234567890",
    "XI123456789",
    "XIGD123",
]

INVALID = [
    ("", "geen btw-nummer"),
    ("123456789", "landcode van een EU-land"),
    ("GB123456789", "landcode van een EU-land"),
    ("CH123456789", "landcode van een EU-land"),
    ("GR123456789", "beginnen met EL"),
    ("AT12345678", "vorm van een AT-btw-nummer"),
    ("BE2123456789", "vorm van een BE-btw-nummer"),
    ("BE012345678", "vorm van een BE-btw-nummer"),
    ("DE12345678", "vorm van een DE-btw-nummer"),
    ("DE1234567890", "vorm van een DE-btw-nummer"),
    ("FRI1234567890", "vorm van een FR-btw-nummer"),
    ("NL123456789", "vorm van een NL-btw-nummer"),
    ("NL123456789A01", "vorm van een NL-btw-nummer"),
    ("SE123456789012", "vorm van een SE-btw-nummer"),
    ("PL123456789", "vorm van een PL-btw-nummer"),
    ("DE12345678X", "vorm van een DE-btw-nummer"),
]


@pytest.mark.parametrize("number", VALID)
def test_valid_forms(number: str) -> None:
    assert problem(number) is None


@pytest.mark.parametrize(("number", "fragment"), INVALID)
def test_invalid_forms(number: str, fragment: str) -> None:
    reason = problem(number)
    assert reason is not None
    assert fragment in reason


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("nl 0012.34567.b01", "NL001234567B01"),
        ("BE 0123-456-789", "BE0123456789"),
        ("de123456789", "DE123456789"),
        ("\tATU 1234 5678 ", "ATU12345678"),
    ],
)
def test_normalise(raw: str, normal: str) -> None:
    assert normalise(raw) == normal
    assert problem(raw) is None


def test_every_member_state_has_a_pattern() -> None:
    # Greece is EL, not GR; XI is Northern Ireland (goods)
    assert set(PATTERNS) == (EU_COUNTRIES - {"GR"}) | {"EL", "XI"}
