"""PURE: order data that contradicts itself, or its destination, is refused, not booked
(docs/booking-rules.md, "Waar de goederen heen gaan"). The destination is read by
app/core/destination.py; here each treatment is held against it:

- ``zero_percent`` (export, 0 %): the goods leave the EU VAT area; no field names a place
  inside it, and the fields name one country.
- ``reverse_charged_vat`` (ICP, 0 %): the buyer has a VAT number of another member state
  of a valid form, and the goods go to another member state (services: no transport, the
  tax region must still be another member state when it is given).
- a tax region of another member state (OSS): the goods go to that member state. A Dutch
  destination means Dutch VAT; an address outside the EU VAT area means export.
- Dutch VAT to a consumer in another member state is a distance sale under the €10,000
  threshold: booked, with a note, unless the shop uses OSS (then that VAT is wrong).

``check_order`` returns those notes (Dutch) for the booking.
"""

from __future__ import annotations

from app.core.destination import Destination, Place, destination
from app.core.line_types import services_only
from app.core.mapping_settings import MappingSettings
from app.core.orders import TAX_STRATEGY_REVERSE_CHARGE, TAX_STRATEGY_ZERO_PERCENT, Order
from app.core.oss import uses_oss
from app.core.relations import invoice_address
from app.core.vat_codes import HOME_COUNTRY
from app.core.vat_numbers import normalise, problem
from app.errors import MappingError

# A note that informs and asks nothing: shown on the booking, left out of the alert digest.
FOR_INFORMATION = "Ter informatie: "
EXPORT = "is als export buiten de EU (0% btw) berekend"
ICP = "is een zakelijke EU-verkoop met verlegde btw (0%)"
FIX = "Controleer de bestelling in Mijnwebwinkel, of boek haar met de hand."


def check_order(order: Order, settings: MappingSettings) -> tuple[str, ...]:
    """Raise ``MappingError`` (Dutch) when the order's tax data contradicts itself or its
    destination; else the notes (Dutch) the booking carries."""
    where = destination(order)
    if order.tax_strategy == TAX_STRATEGY_ZERO_PERCENT:
        _check_export(order, where)
    elif order.tax_strategy == TAX_STRATEGY_REVERSE_CHARGE:
        _check_reverse_charge(order, where)
    elif where.region and where.region.in_eu and not where.region.dutch:
        _check_oss(order, where, where.region)
    else:
        return _check_dutch_vat(order, where, settings)
    return ()


def _refuse(order: Order, what: str, why: str, fix: str = FIX) -> MappingError:
    return MappingError(f"Bestelling {order.number} {what}, maar {why}. {fix}")


def _names(places: list[Place]) -> str:
    return ", ".join(p.describe() for p in places)


def _check_export(order: Order, where: Destination) -> None:
    not_export = " De bestelling wordt niet als export geboekt; controleer haar in Mijnwebwinkel."
    if where.place is None:
        raise MappingError(
            f"Bestelling {order.number} {EXPORT}, maar heeft geen belastingregio en geen "
            "verzendland, en geen afleveradres met een land; zonder land buiten de EU wordt "
            "ze niet als export geboekt. Controleer de bestelling in Mijnwebwinkel."
        )
    if where.conflict:
        raise _refuse(order, EXPORT, where.conflict, not_export.strip())
    transport = where.transport
    inside = [
        p
        for p in (where.region, where.shipping, where.delivery)
        if p is not None and p.in_eu and not _same_territory(p, transport)
    ]
    if inside:
        raise MappingError(
            f"Bestelling {order.number} {EXPORT}, maar heeft {_names(inside)}: dat ligt "
            "binnen de EU." + not_export
        )
    region = where.region
    if region and transport and not region.same_country(transport):
        raise _refuse(
            order,
            EXPORT,
            f"{region.describe()} en {transport.describe()} wijzen naar verschillende landen",
            not_export.strip(),
        )


def _same_territory(found: Place, transport: Place | None) -> bool:
    """A country code (tax region, shipping country) of a member state whose part outside
    the EU VAT area the delivery address names: Las Palmas is ES, and not in the EU."""
    return (
        transport is not None
        and not transport.in_eu
        and transport.field != found.field
        and transport.country == found.country
    )


def _check_reverse_charge(order: Order, where: Destination) -> None:
    number = normalise(invoice_address(order).taxnumber)
    reason = problem(number)
    if reason is None and number.startswith(HOME_COUNTRY):
        reason = (
            f"btw-nummer {number} is Nederlands; btw verleggen binnen de EU kan alleen naar "
            "een klant in een ander EU-land"
        )
    if reason is not None:
        raise MappingError(
            f"Bestelling {order.number} {ICP}, maar {reason}. 0% zonder geldig btw-nummer "
            "van de klant mag niet: de verkoop valt dan onder de Nederlandse btw. Vul het "
            "btw-nummer van de klant in bij de bestelling in Mijnwebwinkel (factuuradres) of "
            "boek haar met de hand."
        )
    if services_only(order.lines):
        _check_icp_services(order, number, where.region)
        return
    if where.conflict:
        raise _refuse(order, ICP, where.conflict)
    region, transport, found = where.region, where.transport, where.place
    if region and transport and not region.same_country(transport):
        raise _refuse(
            order,
            ICP,
            f"{region.describe()} en {transport.describe()} wijzen naar verschillende landen",
        )
    if found is None:
        raise _refuse(
            order,
            ICP,
            "heeft geen afleveradres, verzendland of belastingregio; zonder land van "
            "bestemming is niet vast te stellen dat de goederen naar een ander EU-land gaan",
        )
    _icp_place(order, found)


def _check_icp_services(order: Order, number: str, region: Place | None) -> None:
    """Services have no transport: the buyer's VAT number says where they are supplied;
    a tax region, when given, must be another member state too."""
    if number.startswith("XI"):
        raise _refuse(
            order, ICP, f"btw-nummer {number} is Noord-Iers en geldt alleen voor goederen"
        )
    if region is not None:
        _icp_place(order, region)


def _icp_place(order: Order, found: Place) -> None:
    if found.dutch:
        raise _refuse(
            order,
            ICP,
            f"heeft {found.describe()}: de goederen blijven in Nederland, dus is Nederlandse "
            "btw verschuldigd",
        )
    if not found.in_eu:
        raise _refuse(
            order,
            ICP,
            f"heeft {found.describe()}: dat ligt buiten de EU; dan is het export, geen "
            "levering binnen de EU",
        )


def _check_oss(order: Order, where: Destination, region: Place) -> None:
    oss = f"is een OSS-verkoop met btw van {region.country} ({region.describe()})"
    if where.conflict:
        raise _refuse(order, oss, where.conflict)
    transport = where.transport
    if transport is None or (transport.in_eu and transport.zone == region.zone):
        return
    if transport.dutch:
        why = (
            f"heeft {transport.describe()}: de goederen blijven in Nederland, dus is "
            "Nederlandse btw verschuldigd"
        )
    elif not transport.in_eu:
        why = (
            f"heeft {transport.describe()}: dat ligt buiten het btw-gebied van de EU (export, "
            "0%), niet in " + region.country
        )
    else:
        why = (
            f"heeft {transport.describe()}: de goederen gaan naar {transport.country}, dus is "
            f"de btw van {transport.country} verschuldigd, niet die van {region.country}"
        )
    raise _refuse(order, oss, why)


def _check_dutch_vat(
    order: Order, where: Destination, settings: MappingSettings
) -> tuple[str, ...]:
    transport = where.transport
    abroad = transport is not None and transport.in_eu and not transport.dutch
    if not uses_oss(settings):
        if not abroad or transport is None:
            return ()
        return (
            f"{FOR_INFORMATION}afstandsverkoop naar {transport.country} met Nederlandse btw "
            f"({transport.describe()}). Dat mag zolang uw verkopen aan particulieren in "
            "andere EU-landen (goederen en digitale diensten samen) vorig jaar en dit jaar "
            "elk onder € 10.000 blijven; daarboven is de btw van het land van aankomst "
            "verschuldigd (OSS).",
        )
    dutch = "is met Nederlandse btw berekend"
    if where.conflict:
        raise _refuse(order, dutch, where.conflict)
    if abroad and transport is not None:
        raise _refuse(
            order,
            dutch,
            f"heeft {transport.describe()}, en deze webwinkel boekt verkopen aan particulieren "
            "in andere EU-landen via OSS (er staan OSS-regels bij Instellingen): dan is de btw "
            f"van {transport.country} verschuldigd, niet de Nederlandse",
        )
    return ()
