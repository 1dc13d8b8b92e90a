"""PURE: where an order's goods go (its VAT destination), from the order's own fields.

The rule (docs/booking-rules.md, "Waar de goederen heen gaan", with its sources):

- Transport ends at the **delivery address** (``debtor.address.delivery``). The **shipping
  country** (``shipping[].country.isocode``) names the same place through the shipping
  method. Both are transport evidence; when both are known they must name the same country,
  and the delivery address wins for the detail (its postcode can put a Spanish address on
  the Canary Islands, outside the EU VAT area).
- The **tax region** (``tax_region``) is the country the shop computed the VAT for. Without
  transport evidence it is the destination; a 0 % or OSS treatment must name the same
  country as the transport (app/core/checks.py).
- The live shape: ``"country": []`` and a debtor without addresses carry no destination.
  A delivery address without a country code but with a Dutch postcode (``5911 AB``) is in
  the Netherlands.
- Parts of member states outside the EU VAT area (Directive 2006/112/EC, art. 6) are
  recognised by their postcodes; Monaco is French VAT territory (art. 7); a GB address with
  a ``BT`` postcode is Northern Ireland, inside the EU VAT area for goods (``XI``).

``vat_facts`` is the one function the Controle report reads these facts through (the
destination country and, for an ICP sale, the buyer's VAT number).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.core.orders import TAX_STRATEGY_REVERSE_CHARGE, Address, Order
from app.core.relations import invoice_address
from app.core.vat_codes import EU_COUNTRIES, HOME_COUNTRY
from app.core.vat_numbers import normalise

DELIVERY, SHIPPING, REGION = "afleveradres", "verzendland", "belastingregio"
NORTHERN_IRELAND = "XI"  # in the EU VAT area for goods (Windsor Framework)
# Postcode prefixes of the parts of member states outside the EU VAT area (art. 6).
OUTSIDE_VAT_AREA: dict[str, tuple[tuple[str, str], ...]] = {
    "ES": (
        ("35", "Canarische Eilanden"),
        ("38", "Canarische Eilanden"),
        ("51", "Ceuta"),
        ("52", "Melilla"),
    ),
    "FI": (("22", "Ålandeilanden"),),
    "FR": tuple(
        (prefix, "Franse overzeese gebieden")
        for prefix in ("971", "972", "973", "974", "975", "976", "977", "978", "986", "987", "988")
    ),
    "DE": (("27498", "Helgoland"), ("78266", "Büsingen am Hochrhein")),
    "IT": (("23041", "Livigno"), ("22061", "Campione d'Italia")),
    "GR": (("63086", "berg Athos"),),
}
VAT_TERRITORY_OF = {"MC": "FR"}  # Monaco is French VAT territory (art. 7)
_DUTCH_POSTCODE = re.compile(r"^[1-9]\d{3}\s?[A-Z]{2}$")
_COUNTRY_PREFIX = re.compile(r"^[A-Z]{1,2}(?=\d)")  # "D-27498", "AX-22100"


@dataclass(frozen=True, slots=True)
class Place:
    """One field's answer to "where do the goods go?"."""

    field: str  # DELIVERY, SHIPPING or REGION
    country: str  # ISO 3166-1 alpha-2, as the order has it
    zone: str = ""  # the member state whose VAT area it is in ("XI"); "" outside the EU
    territory: str = ""  # the part of the country that decides (Canarische Eilanden)

    @property
    def in_eu(self) -> bool:
        return bool(self.zone)

    @property
    def dutch(self) -> bool:
        return self.zone == HOME_COUNTRY

    def same_country(self, other: Place) -> bool:
        """Both name one country: the same code, or one VAT area (Monaco is France)."""
        return self.country == other.country or (bool(self.zone) and self.zone == other.zone)

    def describe(self) -> str:
        """``afleveradres ES (Canarische Eilanden)``, as the reasons name it."""
        return f"{self.field} {self.country}" + (f" ({self.territory})" if self.territory else "")


@dataclass(frozen=True, slots=True)
class Destination:
    delivery: Place | None
    shipping: Place | None
    region: Place | None

    @property
    def transport(self) -> Place | None:
        """Where transport ends: the delivery address, else the shipping country."""
        return self.delivery or self.shipping

    @property
    def place(self) -> Place | None:
        """The destination: the transport's end, else the tax region."""
        return self.transport or self.region

    @property
    def conflict(self) -> str:
        """Why the transport fields contradict each other (Dutch), or ""."""
        if self.delivery and self.shipping and not self.delivery.same_country(self.shipping):
            return (
                f"{self.delivery.describe()} en {self.shipping.describe()} wijzen naar "
                "verschillende landen"
            )
        return ""


def place(field: str, country: str, postcode: str = "") -> Place:
    country = country.strip().upper()
    zone = VAT_TERRITORY_OF.get(country, country)
    code = postcode.replace(" ", "").replace("-", "").upper()
    if country == "GB" and code.startswith("BT"):
        return Place(field, country, NORTHERN_IRELAND, "Noord-Ierland")
    if zone not in EU_COUNTRIES:
        return Place(field, country)
    code = _COUNTRY_PREFIX.sub("", code)
    for prefix, name in OUTSIDE_VAT_AREA.get(zone, ()):
        if code.startswith(prefix):
            return Place(field, country, "", name)
    return Place(field, country, zone)


def _delivery(address: Address | None) -> Place | None:
    if address is None:
        return None
    if address.country_code:
        return place(DELIVERY, address.country_code, address.zipcode)
    if _DUTCH_POSTCODE.match(address.zipcode.strip().upper()):
        return Place(DELIVERY, HOME_COUNTRY, HOME_COUNTRY, f"postcode {address.zipcode.strip()}")
    return None


def destination(order: Order) -> Destination:
    """The order's destination fields, read as the rule above says."""
    return Destination(
        delivery=_delivery(order.debtor.delivery),
        shipping=place(SHIPPING, order.shipping_country) if order.shipping_country else None,
        region=place(REGION, order.tax_region) if order.tax_region else None,
    )


@dataclass(frozen=True, slots=True)
class VatFacts:
    """What the VAT return needs to know of an order besides its rows."""

    destination: str  # the member state ("XI") or, outside the EU VAT area, the country; "" unknown
    in_eu: bool  # the destination is inside the EU VAT area
    buyer_vat_number: str  # an ICP sale (reverse charge): the buyer's VAT number; else ""


def vat_facts(order: Order) -> VatFacts:
    """The destination and, for an ICP sale, the buyer's VAT number (normalised)."""
    found = destination(order).place
    buyer = ""
    if order.tax_strategy == TAX_STRATEGY_REVERSE_CHARGE:
        buyer = normalise(invoice_address(order).taxnumber)
    if found is None:
        return VatFacts("", False, buyer)
    return VatFacts(found.zone or found.country, found.in_eu, buyer)
