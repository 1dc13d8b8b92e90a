"""PURE: one Mijnwebwinkel order + the shop's settings → what to book in e-Boekhouden.

No Flask, Redis, SQL or network here; everything is decided from the two arguments, so
``tests/core/test_mapping_*.py`` can cover every rule with plain tables.

Rules (see docs/booking-rules.md for the reasoning):
- Every VAT slice of every order line is placed by its tax treatment (domestic rate,
  reverse charge, export, OSS destination + rate) and its income type (omzet,
  verzendkosten, betaalkosten, korting) on one (BTW code, ledger) row; rows aggregate the
  slices' ``amount_including_tax``.
- Cent-exact: the rows add up to ``price.total`` or the order fails; nothing is guessed.
- Rounding rule, per row: VAT = incl × rate / (100 + rate), rounded half-up (away from
  zero) to the cent; excl = incl − VAT. So excl + VAT = incl on every row.
- Credit orders book as negative amounts under their own number.
"""

from __future__ import annotations

import base64
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from app.core.mapping_settings import (
    BETAALKOSTEN,
    BTW_CODE_RATES,
    EU_COUNTRIES,
    EXPORT,
    HOME_COUNTRY,
    KORTING,
    MODE_CASH,
    MODE_INVOICE_AND_PAYMENT,
    OMZET,
    REVERSE_CHARGE,
    VERZENDKOSTEN,
    MappingSettings,
    describe_treatment,
    oss_key,
    rate_key,
    rate_text,
    validate,
)
from app.core.mutations import CENT, Mutation, MutationRow, Relation, Soort, money
from app.core.orders import (
    LINE_DISCOUNT,
    LINE_PAYMENT,
    LINE_SHIPPING,
    TAX_STRATEGY_REVERSE_CHARGE,
    TAX_STRATEGY_ZERO_PERCENT,
    Address,
    Order,
)
from app.errors import MappingError

ZERO = Decimal("0")

# e-Boekhouden's field lengths (NOTES.md §4.1, §6); longer values are refused, not cut.
MAX_INVOICE_NUMBER = 50
MAX_DESCRIPTION = 200
MAX_RELATION_CODE = 15
RELATION_LIMITS = {"name": 100, "contact": 150, "address": 150, "postcode": 50, "city": 50,
                   "country": 50, "email": 150, "phone": 50, "vat_number": 50}
RELATION_LABELS = {"name": "bedrijfsnaam/naam", "contact": "contactpersoon", "address": "adres",
                   "postcode": "postcode", "city": "plaats", "country": "land",
                   "email": "e-mailadres", "phone": "telefoonnummer", "vat_number": "btw-nummer"}

INCOME_BY_LINE_TYPE = {LINE_SHIPPING: VERZENDKOSTEN, LINE_PAYMENT: BETAALKOSTEN,
                       LINE_DISCOUNT: KORTING}


@dataclass(frozen=True, slots=True)
class Booking:
    """What to book for one order."""

    order_number: str
    kind: str  # "order" or "credit"
    mutations: tuple[Mutation, ...]
    relation: Relation
    total: Decimal  # signed: negative for credit notes


@dataclass(frozen=True, slots=True)
class Skip:
    """The order is deliberately not booked; ``reason`` is Dutch, ``code`` is stable."""

    code: str  # "test_order", "status_not_bookable", "zero_total"
    reason: str


def is_credit(order: Order, settings: MappingSettings) -> bool:
    return order.status in settings.credit_statuses or order.credited_order_number is not None


def map_order(order: Order, settings: MappingSettings) -> Booking | Skip:
    """The booking for ``order``, or why it is skipped. Raises ``MappingError`` (Dutch
    message saying what to configure) when the order cannot be booked as it stands."""
    if order.is_test:
        return Skip("test_order", f"Bestelling {order.number} is een testbestelling.")
    credit = is_credit(order, settings)
    bookable = settings.bookable_statuses | (settings.credit_statuses if credit else frozenset())
    if order.status not in bookable:
        name = settings.status_names.get(order.status, f"status {order.status}")
        return Skip(
            "status_not_bookable",
            f"Bestelling {order.number} heeft {name}; die status wordt niet geboekt.",
        )
    # Rule rows are checked per slice below (with the order in the message); the rest of
    # the settings must be complete before anything is booked.
    problems = {k: v for k, v in validate(settings).items() if not k.startswith("rules.")}
    if problems:
        field_name, message = next(iter(problems.items()))
        raise MappingError(f"De instellingen van deze koppeling zijn niet compleet "
                           f"({field_name}): {message}")
    if order.currency != "EUR":
        raise MappingError(
            f"Bestelling {order.number} is in {order.currency}; e-Boekhouden boekt alleen "
            "in euro. Boek deze bestelling met de hand."
        )
    if len(order.number) > MAX_INVOICE_NUMBER:
        raise MappingError(
            f"Bestelnummer {order.number[:20]}… is langer dan {MAX_INVOICE_NUMBER} tekens "
            "en past niet als factuurnummer in e-Boekhouden."
        )
    if order.total == ZERO:
        return Skip("zero_total", f"Bestelling {order.number} heeft een totaal van € 0,00.")

    sign = Decimal(-1) if credit and order.total > ZERO else Decimal(1)
    if not credit and order.total < ZERO:
        raise MappingError(
            f"Bestelling {order.number} heeft een negatief totaal (€ {money(order.total)}) "
            "maar is geen creditbestelling. Controleer de bestelling in Mijnwebwinkel."
        )
    rows = tuple(_row(code, ledger, rate, sign * incl)
                 for (code, ledger, rate), incl in _aggregate(order, settings).items()
                 if incl != ZERO)
    total = sign * order.total
    if sum((r.amount_incl for r in rows), ZERO) != total:  # guarded in _aggregate already
        raise MappingError(f"Bestelling {order.number}: regels en totaal verschillen.")

    relation = build_relation(order, settings)
    return Booking(
        order_number=order.number,
        kind="credit" if credit else "order",
        mutations=_mutations(order, settings, rows, relation.code, total, credit),
        relation=relation,
        total=total,
    )


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


def _aggregate(
    order: Order, settings: MappingSettings
) -> dict[tuple[str, str, Decimal], Decimal]:
    """Sum of ``amount_including_tax`` per (BTW code, ledger, rate), in first-seen order."""
    sums: dict[tuple[str, str, Decimal], Decimal] = defaultdict(lambda: ZERO)
    lines_total = ZERO
    for position, line in enumerate(order.lines, start=1):
        if not line.prices:
            raise MappingError(
                f"Orderregel {position} van bestelling {order.number} heeft geen prijs."
            )
        for price in line.prices:
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
            treatment = treatment_for(order, price.rate)
            rule = settings.rule(treatment)
            if rule is None:
                raise MappingError(_missing_rule_message(order, treatment, price.rate))
            implied = BTW_CODE_RATES.get(rule.btw_code, ZERO)
            if rule.btw_code not in BTW_CODE_RATES or (
                implied is not None and implied != price.rate
            ):
                raise MappingError(
                    f"Bij {describe_treatment(treatment)} staat BTW-code {rule.btw_code}, "
                    f"maar bestelling {order.number} heeft een regel met "
                    f"{rate_text(price.rate)}% btw. Kies bij Instellingen een BTW-code die "
                    "bij dit tarief hoort."
                )
            income = INCOME_BY_LINE_TYPE.get(line.type, OMZET)
            ledger = rule.ledger_for(income)
            if not ledger:
                raise MappingError(
                    f"Bij {describe_treatment(treatment)} is geen grootboekrekening voor "
                    f"{income} ingesteld. Vul die in bij Instellingen."
                )
            sums[(rule.btw_code, ledger, price.rate)] += incl
            lines_total += incl
    if lines_total != order.total:
        raise MappingError(
            f"De orderregels van bestelling {order.number} tellen op tot "
            f"€ {money(lines_total)}, maar het ordertotaal is € {money(order.total)}. "
            "De bestelling wordt niet geboekt; controleer haar in Mijnwebwinkel."
        )
    return sums


def _missing_rule_message(order: Order, treatment: str, rate: Decimal) -> str:
    if treatment.startswith("oss:"):
        country = treatment.split(":")[1]
        return (
            f"Bestelling {order.number} is een OSS-verkoop naar {country} tegen "
            f"{rate_text(rate)}% btw, en daarvoor is geen BTW-code ingesteld. Voeg bij "
            f"Instellingen een regel voor {country} {rate_text(rate)}% toe."
        )
    return (
        f"Bestelling {order.number} heeft een regel met {describe_treatment(treatment)}, "
        "en daarvoor is geen BTW-code ingesteld. Voeg die regel toe bij Instellingen."
    )


def _row(code: str, ledger: str, rate: Decimal, incl: Decimal) -> MutationRow:
    vat = (incl * rate / (Decimal(100) + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    vat = abs(vat) if vat == ZERO else vat  # credits: 0.00, never -0.00, on the wire
    return MutationRow(
        amount_incl=incl,
        amount_excl=incl - vat,
        amount_vat=vat,
        btw_code=code,
        btw_percentage=rate,
        ledger=ledger,
    )


def _mutations(
    order: Order,
    settings: MappingSettings,
    rows: tuple[MutationRow, ...],
    relation_code: str,
    total: Decimal,
    credit: bool,
) -> tuple[Mutation, ...]:
    description = _description(order, credit)
    if settings.booking_mode == MODE_CASH:
        return (
            Mutation(Soort.GELD_ONTVANGEN, order.date, settings.payment_ledger, order.number,
                     description, rows, relation_code=relation_code),
        )
    invoice = Mutation(
        Soort.FACTUUR_VERSTUURD, order.date, settings.debtors_ledger, order.number,
        description, rows, relation_code=relation_code,
        payment_term_days=settings.payment_term_days,
    )
    if settings.booking_mode != MODE_INVOICE_AND_PAYMENT:
        return (invoice,)
    payment_row = MutationRow(total, total, ZERO, "GEEN", ZERO, settings.debtors_ledger)
    payment = Mutation(
        Soort.FACTUURBETALING_ONTVANGEN, order.date, settings.payment_ledger, order.number,
        f"Betaling {description[0].lower()}{description[1:]}"[:MAX_DESCRIPTION],
        (payment_row,), relation_code=relation_code,
    )
    return (invoice, payment)


def _description(order: Order, credit: bool) -> str:
    """Omschrijving: ours to write, so it is shortened to fit rather than refused."""
    if credit and order.credited_order_number:
        head = f"Creditnota {order.number} bij bestelling {order.credited_order_number}"
    elif credit:
        head = f"Creditnota {order.number}"
    else:
        head = f"Mijnwebwinkel bestelling {order.number}"
    name = _invoice_address(order).company or _invoice_address(order).name
    text = f"{head} - {name}" if name else head
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def _invoice_address(order: Order) -> Address:
    """The invoice address, or the deprecated debtor-level fields live responses carry."""
    debtor = order.debtor
    if debtor.invoice is not None:
        return debtor.invoice
    return Address(name=debtor.name, company=debtor.company, phone=debtor.phone)


def relation_code(prefix: str, identity: str) -> str:
    """Deterministic, at most 15 characters, the same for the same customer e-mail."""
    digest = hashlib.sha256(identity.strip().lower().encode()).digest()
    body = base64.b32encode(digest).decode().rstrip("=")
    return (prefix + body)[:MAX_RELATION_CODE]


def build_relation(order: Order, settings: MappingSettings) -> Relation:
    """The debtor for this order, from ``debtor.address.invoice``."""
    address = _invoice_address(order)
    email = order.debtor.email.strip()
    identity = email or "|".join(filter(None, (address.name, address.zipcode, address.company)))
    if not identity:
        raise MappingError(
            f"Bestelling {order.number} heeft geen e-mailadres en geen naam van de klant; "
            "zonder klantgegevens kan geen debiteur worden aangemaakt."
        )
    prefix = settings.relation_prefix[: MAX_RELATION_CODE - 8]
    company = address.company
    relation = Relation(
        code=relation_code(prefix, identity),
        name=company or address.name or email,
        bp="B" if company or order.business_model == "B2B" else "P",
        contact=address.name if company else "",
        address=" ".join(filter(None, (address.street, address.number))),
        postcode=address.zipcode,
        city=address.city,
        country=address.country_code or order.shipping_country,
        email=email,
        phone=address.phone,
        vat_number=address.taxnumber,
    )
    for field_name, limit in RELATION_LIMITS.items():
        value = getattr(relation, field_name)
        if len(value) > limit:
            raise MappingError(
                f"Het veld {RELATION_LABELS[field_name]} van de klant van bestelling "
                f"{order.number} is {len(value)} tekens; e-Boekhouden staat er {limit} toe. "
                "Pas de klantgegevens in Mijnwebwinkel aan."
            )
    return relation
