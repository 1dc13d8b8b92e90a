"""PURE: what each order-line type is in the books (docs/booking-rules.md, "Line types").

Sales (articles, shipping, payment costs, discounts) are revenue at their own VAT rate on
the tax rule's ledger for their income type. A sold gift card or voucher is a liability,
a redeemed one a means of payment, store credit the same: none of them is revenue, so
they, and any type the connector does not know, are refused unless the shop names a
ledger for that type (``MappingSettings.line_type_ledgers``).
"""

from __future__ import annotations

from collections.abc import Iterable

from app.core.mapping_settings import BETAALKOSTEN, KORTING, OMZET, VERZENDKOSTEN
from app.core.orders import OrderLine

SALES_LINE_TYPES: dict[str, str] = {
    "article": OMZET,
    "custom": OMZET,
    "physical": OMZET,
    "digital": OMZET,
    "shipping": VERZENDKOSTEN,
    "shipping_fee": VERZENDKOSTEN,
    "payment": BETAALKOSTEN,
    "payment_fee": BETAALKOSTEN,
    "surcharge": BETAALKOSTEN,
    "discount": KORTING,
}
# Not revenue: booked, when mapped, without VAT (code GEEN) on the shop's ledger.
MEANS_OF_PAYMENT = frozenset({"gift_card", "giftcard", "voucher", "store_credit"})
LINE_TYPE_LABELS = {
    "gift_card": "cadeaubon",
    "giftcard": "cadeaubon",
    "voucher": "waardebon",
    "store_credit": "tegoed",
}
NO_VAT_CODE = "GEEN"
# Services, not goods: no transport, and under reverse charge e-Boekhouden's services code
# (app/core/treatments.py). "service" is no documented type; a shop that maps it is selling
# services. Shipping, payment costs and discounts follow the lines they belong to.
SERVICE_LINE_TYPES = frozenset({"digital", "service"})
ANCILLARY_LINE_TYPES = (
    frozenset(t for t, income in SALES_LINE_TYPES.items() if income != OMZET) | MEANS_OF_PAYMENT
)


def services_only(lines: Iterable[OrderLine]) -> bool:
    """Every line that is sold (not shipping, costs, discounts or vouchers) is a service."""
    sold = [line.type for line in lines if line.type not in ANCILLARY_LINE_TYPES]
    return bool(sold) and all(t in SERVICE_LINE_TYPES for t in sold)


def is_service(line: OrderLine, services: bool) -> bool:
    """A service line, or a line that follows services (``services``: the order sells
    services only)."""
    return line.type in SERVICE_LINE_TYPES or (services and line.type in ANCILLARY_LINE_TYPES)


def unmapped_message(order_number: str, position: int, line_type: str) -> str:
    """Why a line of this type is not booked without a ledger (Dutch)."""
    if line_type in MEANS_OF_PAYMENT:
        label = LINE_TYPE_LABELS[line_type]
        return (
            f"Orderregel {position} van bestelling {order_number} is een {label} "
            f"(soort '{line_type}'). Een verkochte cadeaubon of waardebon is geen omzet "
            "maar een schuld, een ingewisselde is een betaalmiddel; de koppeling boekt "
            "hem niet als omzet. Kies bij Instellingen een grootboekrekening (bijvoorbeeld "
            f"een balansrekening 'Uitstaande cadeaubonnen') voor orderregels '{line_type}'."
        )
    return (
        f"Orderregel {position} van bestelling {order_number} is van een soort die de "
        f"koppeling niet kent ('{line_type}') en wordt niet als omzet geboekt. Kies bij "
        f"Instellingen een grootboekrekening voor orderregels '{line_type}'."
    )
