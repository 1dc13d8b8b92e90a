"""e-Boekhouden booking types: what the connector posts (frozen, no I/O).

Field names follow e-Boekhouden's own SOAP names where they cross the wire (see
``to_wire``), so a preview printed for a bookkeeper reads like the API documentation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

CENT = Decimal("0.01")


class Soort(StrEnum):
    """``enMutatieSoorten`` values used by this connector (WSDL, NOTES.md §4.3)."""

    FACTUUR_VERSTUURD = "FactuurVerstuurd"
    FACTUURBETALING_ONTVANGEN = "FactuurbetalingOntvangen"
    GELD_ONTVANGEN = "GeldOntvangen"

    @property
    def label(self) -> str:
        """As e-Boekhouden's own screens name it: ``Factuur verstuurd``."""
        return SOORT_LABELS[self]


SOORT_LABELS = {
    Soort.FACTUUR_VERSTUURD: "Factuur verstuurd",
    Soort.FACTUURBETALING_ONTVANGEN: "Factuurbetaling ontvangen",
    Soort.GELD_ONTVANGEN: "Geld ontvangen",
}


@dataclass(frozen=True, slots=True)
class MutationRow:
    """One ``cMutatieRegel``. Amounts are cents-exact; ``incl == excl + vat``."""

    amount_incl: Decimal
    amount_excl: Decimal
    amount_vat: Decimal
    btw_code: str
    btw_percentage: Decimal
    ledger: str  # TegenrekeningCode
    # OSS rows only (never sent): the destination country and its VAT rate, and whether
    # the row is that country's VAT ("te betalen OSS-btw") rather than net revenue. The
    # period report's OSS return reads them (stored with the booked rows).
    oss_country: str = field(default="", compare=False)
    oss_rate: Decimal | None = field(default=None, compare=False)
    oss_vat: bool = field(default=False, compare=False)

    def to_wire(self) -> dict[str, object]:
        return {
            "BedragInvoer": self.amount_incl,  # InExBTW is always IN
            "BedragExclBTW": self.amount_excl,
            "BedragBTW": self.amount_vat,
            "BedragInclBTW": self.amount_incl,
            "BTWCode": self.btw_code,
            "BTWPercentage": self.btw_percentage,
            "TegenrekeningCode": self.ledger,
            "KostenplaatsID": 0,
        }


@dataclass(frozen=True, slots=True)
class Mutation:
    """One ``cMutatie`` to AddMutatie."""

    soort: Soort
    date: dt.date
    ledger: str  # Rekening: debtors ledger for invoices, bank/PSP ledger for payments
    invoice_number: str  # Factuurnummer
    description: str  # Omschrijving
    rows: tuple[MutationRow, ...]
    relation_code: str = ""
    payment_term_days: int | None = None
    in_ex_btw: str = "IN"

    @property
    def total(self) -> Decimal:
        return sum((r.amount_incl for r in self.rows), Decimal("0"))

    def to_wire(self) -> dict[str, object]:
        wire: dict[str, object] = {
            "MutatieNr": 0,
            "Soort": self.soort.value,
            "Datum": self.date,
            "Rekening": self.ledger,
            "RelatieCode": self.relation_code or None,
            "Factuurnummer": self.invoice_number,
            "Boekstuk": self.invoice_number,
            "Omschrijving": self.description,
            "Betalingstermijn": (
                str(self.payment_term_days) if self.payment_term_days is not None else None
            ),
            "InExBTW": self.in_ex_btw,
            "MutatieRegels": [row.to_wire() for row in self.rows],
        }
        return wire

    def with_relation(self, relation_code: str) -> Mutation:
        """The same mutation for another (existing) relation code."""
        return Mutation(
            soort=self.soort,
            date=self.date,
            ledger=self.ledger,
            invoice_number=self.invoice_number,
            description=self.description,
            rows=self.rows,
            relation_code=relation_code,
            payment_term_days=self.payment_term_days,
            in_ex_btw=self.in_ex_btw,
        )


@dataclass(frozen=True, slots=True)
class Relation:
    """A debtor (``cRelatie``) as the connector creates it."""

    code: str  # at most 15 characters
    name: str  # Bedrijf: company name, else the person's name
    bp: str  # "B" business / "P" private
    contact: str = ""  # Contactpersoon
    address: str = ""
    postcode: str = ""
    city: str = ""
    country: str = ""
    email: str = ""
    phone: str = ""
    vat_number: str = ""
    company: str = ""  # the order's company name, when it has one (``name`` then too)

    def to_wire(self, today: dt.date) -> dict[str, object]:
        return {
            "ID": 0,
            "AddDatum": today,
            "Code": self.code,
            "Bedrijf": self.name,
            "Contactpersoon": self.contact or None,
            "Adres": self.address or None,
            "Postcode": self.postcode or None,
            "Plaats": self.city or None,
            "Land": self.country or None,
            "Telefoon": self.phone or None,
            "Email": self.email or None,
            "BTWNummer": self.vat_number or None,
            "BP": self.bp,
            "Gb_ID": 0,
            "GeenEmail": 0,
            "NieuwsbriefgroepenCount": 0,
        }


@dataclass(frozen=True, slots=True)
class ExistingRelation:
    """A relation as e-Boekhouden returns it (GetRelaties)."""

    id: int
    code: str
    name: str = ""
    email: str = ""
    vat_number: str = ""
    # The whole cRelatie as GetRelaties returned it: UpdateRelatie replaces a relation, so
    # an update sends every field back (NOTES.md §6).
    fields: dict[str, object] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class BookRow:
    """One row of a mutation as e-Boekhouden holds it, with its amounts split (the
    period report's VAT return from the books)."""

    ledger: str  # TegenrekeningCode
    btw_code: str
    excl: Decimal
    vat: Decimal
    incl: Decimal


@dataclass(frozen=True, slots=True)
class BookedMutation:
    """A mutation as e-Boekhouden returns it (GetMutaties)."""

    number: int
    soort: str
    date: dt.date | None
    invoice_number: str
    total: Decimal = Decimal("0")
    relation_code: str = ""
    # (TegenrekeningCode, BTWCode, BedragInclBTW) per row, when e-Boekhouden returns them
    rows: tuple[tuple[str, str, Decimal], ...] = ()
    ledger: str = ""  # Rekening (the bank or payment ledger of a payment), when returned
    # The same rows with their excl. and VAT amounts, when e-Boekhouden returns them (the
    # period report; adoption compares ``rows``).
    lines: tuple[BookRow, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class MutationListing:
    """Every mutation of the books dated in a period (``BookkeepingApi.list_mutations``),
    and how many calls reading them cost (SOAP: GetMutaties calls, capped a month)."""

    mutations: tuple[BookedMutation, ...]
    calls: int


@dataclass(frozen=True, slots=True)
class LedgerAccount:
    """A ``cGrootboekrekening``: the shop's chart of accounts, for the settings screen."""

    id: int
    code: str
    description: str
    category: str = ""


@dataclass(frozen=True, slots=True)
class Administration:
    name: str
    city: str = ""
    guid: str = ""


def money(value: Decimal) -> str:
    """Two-decimal string for the wire and logs (``12.10``); Dutch sentences use ``euro``."""
    return str(value.quantize(CENT))


def euro(value: Decimal) -> str:
    """An amount as a Dutch reader writes it: ``Decimal("1234.5")`` → ``"€ 1.234,50"``."""
    text = f"{abs(value.quantize(CENT)):,.2f}".replace(",", "_").replace(".", ",")
    text = text.replace("_", ".")
    return f"€ -{text}" if value < 0 else f"€ {text}"
