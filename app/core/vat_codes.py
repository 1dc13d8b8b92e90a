"""e-Boekhouden's sales BTW codes and the EU member states (data, no I/O).

e-Boekhouden has no OSS code (shared/reference/eboekhouden/NOTES.md §9): ``AFW_VERK`` is a
deviating Dutch rate, not the destination country's VAT, and is not offered for OSS.
"""

from __future__ import annotations

from decimal import Decimal

# e-Boekhouden's sales BTW codes (NOTES.md §9) and the VAT rate each one implies; None
# means "any rate" (deviating-rate codes; not for OSS, see above). 0 covers the codes under which
# the seller charges no Dutch VAT.
BTW_CODE_RATES: dict[str, Decimal | None] = {
    "HOOG_VERK_21": Decimal("21"),
    "LAAG_VERK_9": Decimal("9"),
    "LAAG_VERK": Decimal("9"),
    "HOOG_VERK": Decimal("19"),
    "GEEN": Decimal("0"),
    "VERL_VERK": Decimal("0"),
    "VERL_VERK_L9": Decimal("0"),
    "BI_EU_VERK": Decimal("0"),
    "BI_EU_VERK_D": Decimal("0"),
    "BU_EU_VERK": Decimal("0"),
    "AFST_VERK": Decimal("0"),
    "AFW_VERK": None,
    "AFW": None,
}

BTW_CODE_LABELS: dict[str, str] = {
    "HOOG_VERK_21": "BTW hoog, verkopen 21%",
    "LAAG_VERK_9": "BTW laag, verkopen 9%",
    "LAAG_VERK": "BTW laag, verkopen (9%, voor 2019 6%)",
    "HOOG_VERK": "BTW hoog, verkopen 19% (oud tarief)",
    "GEEN": "Geen BTW",
    "VERL_VERK": "BTW verlegd, verkopen 21%",
    "VERL_VERK_L9": "BTW verlegd, verkopen 9%",
    "BI_EU_VERK": "Leveringen binnen de EU (ICP), 0%",
    "BI_EU_VERK_D": "Diensten binnen de EU, 0%",
    "BU_EU_VERK": "Leveringen buiten de EU (export), 0%",
    "AFST_VERK": "Afstandsverkopen binnen de EU, 0%",
    "AFW_VERK": "Afwijkend BTW-tarief, verkopen (geen OSS-code)",
    "AFW": "Afwijkend BTW-tarief",
}

EU_COUNTRIES = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    }
)
HOME_COUNTRY = "NL"

__all__ = ["BTW_CODE_LABELS", "BTW_CODE_RATES", "EU_COUNTRIES", "HOME_COUNTRY"]
