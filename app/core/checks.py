"""PURE: order data that contradicts itself is refused, not booked (docs/booking-rules.md).

- ``zero_percent`` (a sale across the EU border) needs a destination outside the EU: an
  EU ``tax_region`` or shipping country, or no destination at all, is refused rather than
  booked as export.
- ``reverse_charged_vat`` (intra-EU B2B at 0%) needs the customer's VAT number, of a valid
  form for an EU country other than the Netherlands: without it the sale carries Dutch VAT.
"""

from __future__ import annotations

from app.core.orders import TAX_STRATEGY_REVERSE_CHARGE, TAX_STRATEGY_ZERO_PERCENT, Order
from app.core.relations import invoice_address
from app.core.vat_codes import EU_COUNTRIES, HOME_COUNTRY
from app.core.vat_numbers import normalise, problem
from app.errors import MappingError


def check_order(order: Order) -> None:
    """Raise ``MappingError`` (Dutch) when the order's tax data contradicts itself."""
    if order.tax_strategy == TAX_STRATEGY_ZERO_PERCENT:
        _check_export(order)
    elif order.tax_strategy == TAX_STRATEGY_REVERSE_CHARGE:
        _check_reverse_charge(order)


def _check_export(order: Order) -> None:
    places = {"belastingregio": order.tax_region, "verzendland": order.shipping_country}
    inside = {name: code for name, code in places.items() if code in EU_COUNTRIES}
    if inside:
        found = ", ".join(f"{name} {code}" for name, code in inside.items())
        raise MappingError(
            f"Bestelling {order.number} is als export buiten de EU (0% btw) berekend, maar "
            f"heeft {found}: dat ligt binnen de EU. De bestelling wordt niet als export "
            "geboekt; controleer de btw-instellingen van de bestelling in Mijnwebwinkel."
        )
    if not any(places.values()):
        raise MappingError(
            f"Bestelling {order.number} is als export buiten de EU (0% btw) berekend, maar "
            "heeft geen belastingregio en geen verzendland; zonder land buiten de EU wordt "
            "ze niet als export geboekt. Controleer de bestelling in Mijnwebwinkel."
        )


def _check_reverse_charge(order: Order) -> None:
    number = invoice_address(order).taxnumber
    reason = problem(number)
    if reason is None and normalise(number).startswith(HOME_COUNTRY):
        reason = (
            f"btw-nummer {normalise(number)} is Nederlands; btw verleggen binnen de "
            "EU kan alleen naar een klant in een ander EU-land"
        )
    if reason is not None:
        raise MappingError(
            f"Bestelling {order.number} is een zakelijke EU-verkoop met verlegde btw (0%), "
            f"maar {reason}. 0% zonder geldig btw-nummer van de klant mag niet: de verkoop "
            "valt dan onder de Nederlandse btw. Vul het btw-nummer van de klant in bij de "
            "bestelling in Mijnwebwinkel (factuuradres) of boek haar met de hand."
        )
