"""An order's tax treatments: which row of the mapping table ("Stap 2 van 2") a VAT slice
of an order belongs to, and what to say when that row is missing."""

from __future__ import annotations

from decimal import Decimal

from app.core.mapping_settings import (
    EU_COUNTRIES,
    EXPORT,
    HOME_COUNTRY,
    REVERSE_CHARGE,
    describe_treatment,
    oss_key,
    rate_key,
    rate_text,
)
from app.core.orders import TAX_STRATEGY_REVERSE_CHARGE, TAX_STRATEGY_ZERO_PERCENT, Order


def treatment_for(order: Order, rate: Decimal) -> str:
    """The tax treatment (mapping-table row key) of a VAT slice of this order."""
    if order.tax_strategy == TAX_STRATEGY_REVERSE_CHARGE:
        return REVERSE_CHARGE
    if order.tax_strategy == TAX_STRATEGY_ZERO_PERCENT:
        return EXPORT
    region = order.tax_region or HOME_COUNTRY
    if region in EU_COUNTRIES and region != HOME_COUNTRY:
        return oss_key(region, rate)
    return rate_key(rate)


def missing_rule_message(order: Order, treatment: str, rate: Decimal) -> str:
    if treatment.startswith("oss:"):
        country = treatment.split(":")[1]
        return (
            f"Bestelling {order.number} is een OSS-verkoop naar {country} tegen "
            f"{rate_text(rate)}% btw, en daarvoor is nog niets ingesteld. e-Boekhouden kent "
            f"geen OSS-code. Voeg bij Instellingen een regel voor {country} "
            f"{rate_text(rate)}% toe (omzet op een OSS-omzetrekening met een 0%-code, de "
            "btw op een balansrekening 'te betalen OSS-btw')."
        )
    return (
        f"Bestelling {order.number} heeft een regel met {describe_treatment(treatment)}, "
        "en daarvoor is geen BTW-code ingesteld. Voeg die regel toe bij Instellingen."
    )
