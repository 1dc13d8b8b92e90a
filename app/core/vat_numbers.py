"""PURE: the form of an EU VAT number (country prefix and pattern); no online check.

The patterns are the member states' formats as the European Commission's VIES describes
them. A number of the right form can still be void: only VIES can say that, and the
connector does not call it. Greece uses the prefix EL; XI is Northern Ireland (goods).
"""

from __future__ import annotations

import re

PATTERNS: dict[str, str] = {
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "BG": r"\d{9,10}",
    "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}",
    "DE": r"\d{9}",
    "DK": r"\d{8}",
    "EE": r"\d{9}",
    "EL": r"\d{9}",
    "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}",
    "FR": r"[A-HJ-NP-Z0-9]{2}\d{9}",
    "HR": r"\d{11}",
    "HU": r"\d{8}",
    "IE": r"\d{7}[A-W][A-IW]?|\d[A-Z+*]\d{5}[A-W]",
    "IT": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "LV": r"\d{11}",
    "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "RO": r"\d{2,10}",
    "SE": r"\d{10}01",
    "SI": r"\d{8}",
    "SK": r"\d{10}",
    "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
}
_COMPILED = {country: re.compile(f"(?:{pattern})") for country, pattern in PATTERNS.items()}
_SEPARATORS = re.compile(r"[\s.\-]")


def normalise(number: str) -> str:
    """Upper case, without spaces, dots and hyphens: ``nl 0012.34567.b01`` → ``NL001234567B01``."""
    return _SEPARATORS.sub("", number).upper()


def problem(number: str) -> str | None:
    """Why ``number`` is not an EU VAT number of a valid form (Dutch), or None."""
    vat = normalise(number)
    if not vat:
        return "er is geen btw-nummer van de klant"
    country, body = vat[:2], vat[2:]
    if country == "GR":
        return f"btw-nummer {vat} begint met GR; Griekse btw-nummers beginnen met EL"
    if country not in _COMPILED:
        return f"btw-nummer {vat} begint niet met de landcode van een EU-land"
    if not _COMPILED[country].fullmatch(body):
        return f"btw-nummer {vat} heeft niet de vorm van een {country}-btw-nummer"
    return None
