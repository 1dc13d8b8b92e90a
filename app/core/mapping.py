"""PURE: one Mijnwebwinkel order + the shop's settings → what to book in e-Boekhouden.

No Flask, Redis, SQL or network here; everything is decided from the two arguments, so
``tests/core/test_mapping_*.py`` can cover every rule with plain tables.

Rules (see docs/booking-rules.md for the reasoning):
- Every VAT slice of every order line is placed by its tax treatment (domestic rate,
  reverse charge, export, OSS destination + rate) and its line type (app.core.line_types)
  on one (BTW code, ledger, rate) bucket; buckets sum the slices' ``amount_including_tax``.
- Cent-exact: the rows add up to ``price.total`` or the order fails; nothing is guessed.
- The VAT per rate is the order's own (``price.tax``), every row on the standard relation
  VAT = round(incl × rate / (100 + rate)) (app.core.vat).
- Credit orders book as negative amounts under their own number.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.core.checks import check_order
from app.core.destination import VatFacts, vat_facts
from app.core.line_types import services_only
from app.core.mapping_settings import (
    MAX_INVOICE_NUMBER,
    MappingSettings,
    invoice_number,
)
from app.core.mutations import CENT, Mutation, MutationRow, Relation, euro
from app.core.orders import (
    Order,
    OrderLine,
    TaxPrice,
)
from app.core.oss import OssAmount, oss_amounts
from app.core.postings import mutations
from app.core.relations import (
    MAX_RELATION_CODE,
    build_relation,
    relation_code,
)
from app.core.settings_checks import validate
from app.core.tax_point import tax_point_note
from app.core.treatments import place, treatment_for
from app.core.vat import Bucket, allocate, oss_rows
from app.errors import MappingError
from app.states import BookingKind, SkipCode

__all__ = [
    "MAX_RELATION_CODE",
    "Booking",
    "Skip",
    "build_relation",
    "is_credit",
    "map_order",
    "relation_code",
    "treatment_for",
]

ZERO = Decimal("0")
NO_VAT_FACTS = VatFacts("", False, "")


@dataclass(frozen=True, slots=True)
class Booking:
    """What to book for one order."""

    order_number: str
    kind: BookingKind
    mutations: tuple[Mutation, ...]
    relation: Relation
    total: Decimal  # signed: negative for credit notes
    invoice_number: str = ""  # Factuurnummer: the shop's format with the order number
    notes: tuple[str, ...] = ()  # Dutch, for a person: shown on the booking
    vat: VatFacts = NO_VAT_FACTS  # destination and ICP buyer (the VAT return)
    oss: tuple[OssAmount, ...] = ()  # per member state and rate (the OSS return)


@dataclass(frozen=True, slots=True)
class Skip:
    """The order is deliberately not booked; ``reason`` is Dutch, ``code`` is stable."""

    code: SkipCode
    reason: str


def is_credit(order: Order, settings: MappingSettings) -> bool:
    return order.status in settings.credit_statuses or order.credited_order_number is not None


def map_order(order: Order, settings: MappingSettings) -> Booking | Skip:
    """The booking for ``order``, or why it is skipped. Raises ``MappingError`` (Dutch
    message saying what to configure) when the order cannot be booked as it stands."""
    if order.is_test:
        return Skip(SkipCode.TEST_ORDER, f"Bestelling {order.number} is een testbestelling.")
    credit = is_credit(order, settings)
    bookable = settings.bookable_statuses | (settings.credit_statuses if credit else frozenset())
    if order.status not in bookable:
        name = settings.status_names.get(order.status, f"status {order.status}")
        return Skip(
            SkipCode.STATUS_NOT_BOOKABLE,
            f"Bestelling {order.number} heeft {name}; die status wordt niet geboekt.",
        )
    # Rule rows are checked per slice below (with the order in the message); the rest of
    # the settings must be complete before anything is booked.
    problems = {k: v for k, v in validate(settings).items() if not k.startswith("rules.")}
    if problems:
        field_name, message = next(iter(problems.items()))
        raise MappingError(
            f"De instellingen van deze koppeling zijn niet compleet ({field_name}): {message}"
        )
    if order.currency != "EUR":
        raise MappingError(
            f"Bestelling {order.number} is in {order.currency}; e-Boekhouden boekt alleen "
            "in euro. Boek deze bestelling met de hand."
        )
    number = invoice_number(settings.invoice_format, order.number)
    if len(number) > MAX_INVOICE_NUMBER:
        raise MappingError(
            f"Factuurnummer {number[:20]}… voor bestelling {order.number[:20]} is langer "
            f"dan {MAX_INVOICE_NUMBER} tekens en past niet als factuurnummer in "
            "e-Boekhouden. Maak het factuurnummer bij Instellingen korter."
        )
    slices = [p.amount_including_tax for ln in order.lines for p in ln.prices]
    if order.total == ZERO and not any(slices):
        return Skip(
            SkipCode.ZERO_TOTAL,
            f"Bestelling {order.number} heeft een totaal van € 0,00 en geen regels met een bedrag.",
        )
    if not credit and order.total < ZERO:
        raise MappingError(
            f"Bestelling {order.number} heeft een negatief totaal ({euro(order.total)}) "
            "maar is geen creditbestelling. Controleer de bestelling in Mijnwebwinkel."
        )
    notes = check_order(order, settings)
    first = next((s for s in slices if s), ZERO)
    positive = order.total > ZERO or (order.total == ZERO and first is not None and first > 0)
    sign = Decimal(-1) if credit and positive else Decimal(1)
    rows, oss = _rows(order, settings, sign)
    total = sign * order.total
    if not rows:
        return Skip(
            SkipCode.ZERO_TOTAL,
            f"Bestelling {order.number} heeft een totaal van € 0,00 en "
            "haar regels heffen elkaar per grootboekrekening op; er is "
            "niets te boeken.",
        )
    if sum((r.amount_incl for r in rows), ZERO) != total:  # guarded in _buckets already
        raise MappingError(f"Bestelling {order.number}: regels en totaal verschillen.")

    relation = build_relation(order, settings)
    tax_point = tax_point_note(order, settings, credit)
    return Booking(
        order_number=order.number,
        kind=BookingKind.CREDIT if credit else BookingKind.ORDER,
        mutations=mutations(order, settings, rows, relation.code, total, credit, number),
        relation=relation,
        total=total,
        invoice_number=number,
        notes=(*notes, *filter(None, [tax_point])),
        vat=vat_facts(order),
        oss=oss,
    )


def _rows(
    order: Order, settings: MappingSettings, sign: Decimal
) -> tuple[tuple[MutationRow, ...], tuple[OssAmount, ...]]:
    """The invoice's rows, and for an OSS sale its amounts per rate."""
    buckets, oss_ledgers = _buckets(order, settings, sign)
    tax: dict[Decimal, Decimal] | None = None
    if order.tax:
        tax = {}
        for price in order.tax:
            tax[price.rate] = tax.get(price.rate, ZERO) + (price.amount or ZERO)
    plain = [b for b in buckets if (b.code, b.ledger, b.rate) not in oss_ledgers]
    foreign = [b for b in buckets if (b.code, b.ledger, b.rate) in oss_ledgers]
    foreign_rates = {b.rate for b in foreign}
    rows = allocate(
        order.number,
        plain,
        None if tax is None else {r: v for r, v in tax.items() if r not in foreign_rates},
    )
    if not foreign:
        return rows, ()
    rows += oss_rows(order.number, foreign, tax, oss_ledgers, order.tax_region.upper())
    return rows, oss_amounts(order.tax_region, foreign, tax)


def _buckets(
    order: Order, settings: MappingSettings, sign: Decimal
) -> tuple[list[Bucket], dict[tuple[str, str, Decimal], str]]:
    """Signed slices per (BTW code, ledger, rate) in first-seen order, and for OSS buckets
    the ledger of the destination country's VAT."""
    parts: dict[tuple[str, str, Decimal], list[Decimal]] = {}
    oss_ledgers: dict[tuple[str, str, Decimal], str] = {}
    lines_total = ZERO
    services = services_only(order.lines)
    for position, line in enumerate(order.lines, start=1):
        if not line.prices:
            raise MappingError(
                f"Orderregel {position} van bestelling {order.number} heeft geen prijs."
            )
        for price in line.prices:
            incl = _incl(order, position, line, price)
            at = place(order, settings, position, line, price.rate, services)
            parts.setdefault((at.code, at.ledger, price.rate), []).append(sign * incl)
            if at.vat_ledger:
                oss_ledgers[(at.code, at.ledger, price.rate)] = at.vat_ledger
            lines_total += incl
    if lines_total != order.total:
        raise MappingError(
            f"De orderregels van bestelling {order.number} tellen op tot "
            f"{euro(lines_total)}, maar het ordertotaal is {euro(order.total)}. "
            "De bestelling wordt niet geboekt; controleer haar in Mijnwebwinkel."
        )
    return [Bucket(c, ledger, r, tuple(p)) for (c, ledger, r), p in parts.items()], oss_ledgers


def _incl(order: Order, position: int, line: OrderLine, price: TaxPrice) -> Decimal:
    incl = price.amount_including_tax
    if incl is None:
        raise MappingError(
            f"Orderregel {position} ({line.description or line.type}) van bestelling "
            f"{order.number} heeft geen bedrag inclusief btw; zonder dat bedrag "
            "rekenen we niet zelf."
        )
    if incl != incl.quantize(CENT):
        raise MappingError(
            f"Orderregel {position} van bestelling {order.number} heeft een bedrag "
            f"inclusief btw met meer dan twee decimalen ({incl})."
        )
    return incl
