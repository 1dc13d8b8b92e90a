"""A shop's mapping settings: the incumbent's "Stap 2 van 2" table, as data.

One ``TaxRule`` per tax treatment (a domestic VAT rate, reverse charge, export, or an OSS
destination country + rate) gives the e-Boekhouden BTW code and one ledger account per
income type. The rest says how orders are booked. Settings are stored as JSON on the shop
row (``to_json``/``from_json``) and checked by ``validate`` before a shop is activated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

# re-exported: the settings screen and the mapping read them from here
from app.core.vat_codes import BTW_CODE_LABELS as BTW_CODE_LABELS
from app.core.vat_codes import BTW_CODE_RATES as BTW_CODE_RATES
from app.core.vat_codes import EU_COUNTRIES as EU_COUNTRIES
from app.core.vat_codes import HOME_COUNTRY as HOME_COUNTRY
from app.states import BookingMode, VatPeriod

# Income types: which ledger column of a tax rule an order line lands on.
OMZET = "omzet"
VERZENDKOSTEN = "verzendkosten"
BETAALKOSTEN = "betaalkosten"
KORTING = "korting"
INCOME_TYPES = (OMZET, VERZENDKOSTEN, BETAALKOSTEN, KORTING)
# OSS rules only: the balance-sheet ledger that carries the destination country's VAT.
OSS_VAT = "oss_btw"
OSS_VAT_LABEL = "te betalen OSS-btw"

# Tax treatments that are not a plain domestic rate.
REVERSE_CHARGE = "reverse_charge"
EXPORT = "export"


MAX_LEDGER_CODE = 10  # cMutatie.Rekening / TegenrekeningCode (NOTES.md §4)
# "Betaalmethoden": a payment method mapped to this books no payment ("niet boeken").
NOT_BOOKED = "-"
MAX_INVOICE_NUMBER = 50  # cMutatie.Factuurnummer (NOTES.md §4.1)
NUMBER = "{number}"  # the order number's place in a shop's invoice-number format
MAX_LINE_TYPE = 40
MAX_RELATION_CODE = 15  # cRelatie.Code (NOTES.md §6)
MAX_LOOKBACK_DAYS = 3650  # a shop may follow its invoices' money for up to ten years


def invoice_number(invoice_format: str, order_number: str) -> str:
    """The Factuurnummer for an order: the shop's format with ``{number}`` filled in."""
    return invoice_format.replace(NUMBER, order_number)


def check_invoice_format(invoice_format: str) -> str | None:
    """Why this invoice-number format cannot be used (Dutch), or None."""
    if invoice_format.count(NUMBER) != 1:
        return "Het factuurnummer moet precies één keer {number} bevatten."
    rest = invoice_format.replace(NUMBER, "")
    if "{" in rest or "}" in rest or not rest.isprintable() or rest != rest.strip():
        return (
            "Gebruik rond {number} alleen letters, cijfers en leestekens, zonder "
            "accolades of spaties aan begin en eind."
        )
    if len(invoice_number(invoice_format, "9" * 10)) > MAX_INVOICE_NUMBER:
        return (
            f"Het factuurnummer mag in e-Boekhouden {MAX_INVOICE_NUMBER} tekens zijn; "
            "houd de tekst rond {number} korter."
        )
    return None


def rate_text(rate: Decimal) -> str:
    """``Decimal("21.00")`` → ``"21"``, ``Decimal("5.50")`` → ``"5.5"``."""
    text = format(rate.normalize(), "f")
    return text


def rate_key(rate: Decimal) -> str:
    return f"rate:{rate_text(rate)}"


def oss_key(country: str, rate: Decimal) -> str:
    return f"oss:{country.upper()}:{rate_text(rate)}"


def describe_treatment(key: str) -> str:
    """Dutch label of a treatment key, as the settings screen shows it."""
    if key == REVERSE_CHARGE:
        return "BTW verlegd (B2B binnen de EU)"
    if key == EXPORT:
        return "Export buiten de EU (0%)"
    if key.startswith("rate:"):
        return f"BTW {key.split(':', 1)[1]}%"
    if key.startswith("oss:"):
        _, country, rate = key.split(":")
        return f"OSS {country} {rate}%"
    return key


@dataclass(frozen=True, slots=True)
class TaxRule:
    """One row of the mapping table."""

    treatment: str  # "rate:21", "reverse_charge", "export", "oss:DE:19"
    btw_code: str
    ledgers: dict[str, str]  # income type → ledger code

    def ledger_for(self, income_type: str) -> str:
        return self.ledgers.get(income_type) or self.ledgers.get(OMZET, "")


def _rule(treatment: str, code: str, omzet: str, other: str, korting: str | None = None) -> TaxRule:
    return TaxRule(
        treatment,
        code,
        {OMZET: omzet, VERZENDKOSTEN: other, BETAALKOSTEN: other, KORTING: korting or omzet},
    )


# The incumbent's screen with today's codes: 21% revenue on 8010, everything else on 8000.
DEFAULT_RULES: tuple[TaxRule, ...] = (
    _rule("rate:21", "HOOG_VERK_21", "8010", "8000"),
    _rule("rate:9", "LAAG_VERK_9", "8000", "8000"),
    _rule("rate:0", "GEEN", "8000", "8000"),
    _rule(REVERSE_CHARGE, "BI_EU_VERK", "8000", "8000"),
    _rule(EXPORT, "BU_EU_VERK", "8000", "8000"),
)


@dataclass(frozen=True, slots=True)
class MappingSettings:
    rules: tuple[TaxRule, ...] = DEFAULT_RULES
    debtors_ledger: str = "1300"
    bookable_statuses: frozenset[int] = frozenset({2, 3, 6})
    credit_statuses: frozenset[int] = frozenset({10})
    payment_term_days: int = 14
    booking_mode: BookingMode = BookingMode.INVOICE
    payment_ledger: str = ""  # bank/PSP ledger for invoice_and_payment and cash
    relation_prefix: str = "MWW"
    # Payment method (e.g. "ideal", "cash") → ledger of the money received, or NOT_BOOKED.
    payment_ledgers: dict[str, str] = field(default_factory=dict)
    status_names: dict[int, str] = field(default_factory=dict, compare=False)
    # Factuurnummer = this format with {number} filled in; the bare order number is what
    # the incumbent books. Two shops on one administration need different formats.
    invoice_format: str = NUMBER
    # Order-line types that are not sales (gift cards, store credit, unknown types) are
    # only booked when the shop names a ledger for them here.
    line_type_ledgers: dict[str, str] = field(default_factory=dict)
    # "Verzameldebiteur": the relation code every consumer order is booked on (empty:
    # each customer gets a relation of their own). Orders of businesses (a company name
    # or VAT number) always get their own relation (app/core/relations.py).
    collective_debtor: str = ""
    # How often the shop files its VAT return: a booking whose invoice date lies in an
    # earlier period than its payment or shipping says so (app/core/tax_point.py).
    vat_period: VatPeriod = VatPeriod.QUARTER
    # Modes with payments: how many days after its order date an invoice's money is still
    # looked for by the passes (None: PAYMENT_LOOKBACK_DAYS). Later money is booked when
    # the order changes in Mijnwebwinkel; an invoice still unpaid then is an open item.
    payment_lookback_days: int | None = None
    # Invoices booked without payments (mode "invoice") before a switch to a payment mode:
    # None: their money stays the bookkeeper's; a date: money they receive on or after it
    # is booked (what came earlier the bookkeeper matched already).
    payments_from: dt.date | None = None

    def lookback_days(self, default: int) -> int:
        """This shop's payment lookback in days (``default``: the environment's)."""
        return self.payment_lookback_days if self.payment_lookback_days is not None else default

    def rule(self, treatment: str) -> TaxRule | None:
        for rule in self.rules:
            if rule.treatment == treatment:
                return rule
        return None

    def with_rule(self, rule: TaxRule) -> MappingSettings:
        others = tuple(r for r in self.rules if r.treatment != rule.treatment)
        return replace(self, rules=(*others, rule))

    def to_json(self) -> dict[str, Any]:
        return {
            "rules": [
                {"treatment": r.treatment, "btw_code": r.btw_code, "ledgers": dict(r.ledgers)}
                for r in self.rules
            ],
            "debtors_ledger": self.debtors_ledger,
            "bookable_statuses": sorted(self.bookable_statuses),
            "credit_statuses": sorted(self.credit_statuses),
            "payment_term_days": self.payment_term_days,
            "booking_mode": self.booking_mode,
            "payment_ledger": self.payment_ledger,
            "relation_prefix": self.relation_prefix,
            "payment_ledgers": dict(sorted(self.payment_ledgers.items())),
            "status_names": {str(k): v for k, v in sorted(self.status_names.items())},
            "invoice_format": self.invoice_format,
            "line_type_ledgers": dict(sorted(self.line_type_ledgers.items())),
            "collective_debtor": self.collective_debtor,
            "vat_period": str(self.vat_period),
            "payment_lookback_days": self.payment_lookback_days,
            "payments_from": self.payments_from.isoformat() if self.payments_from else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> MappingSettings:
        """Settings from stored JSON; missing keys take the defaults."""
        data = data or {}
        default = cls()
        rules = default.rules
        if "rules" in data:
            rules = tuple(
                TaxRule(
                    str(r["treatment"]),
                    str(r["btw_code"]).strip().upper(),
                    {str(k): str(v).strip() for k, v in dict(r.get("ledgers", {})).items()},
                )
                for r in data["rules"]
            )
        return cls(
            rules=rules,
            debtors_ledger=str(data.get("debtors_ledger", default.debtors_ledger)).strip(),
            bookable_statuses=frozenset(
                int(s) for s in data.get("bookable_statuses", default.bookable_statuses)
            ),
            credit_statuses=frozenset(
                int(s) for s in data.get("credit_statuses", default.credit_statuses)
            ),
            payment_term_days=int(data.get("payment_term_days", default.payment_term_days)),
            booking_mode=_mode(data.get("booking_mode"), default.booking_mode),
            payment_ledger=str(data.get("payment_ledger") or "").strip(),
            relation_prefix=str(data.get("relation_prefix", default.relation_prefix)),
            status_names={int(k): str(v) for k, v in dict(data.get("status_names", {})).items()},
            payment_ledgers={
                str(k).strip().lower(): str(v).strip()
                for k, v in dict(data.get("payment_ledgers") or {}).items()
                if str(k).strip() and str(v).strip()
            },
            invoice_format=str(data.get("invoice_format") or NUMBER).strip(),
            line_type_ledgers={
                str(k).strip().lower(): str(v).strip()
                for k, v in dict(data.get("line_type_ledgers") or {}).items()
            },
            collective_debtor=str(data.get("collective_debtor") or "").strip(),
            vat_period=VatPeriod.parse(data.get("vat_period")) or default.vat_period,
            payment_lookback_days=(
                int(data["payment_lookback_days"])
                if data.get("payment_lookback_days") not in (None, "")
                else None
            ),
            payments_from=(
                dt.date.fromisoformat(str(data["payments_from"]))
                if data.get("payments_from")
                else None
            ),
        )


def _mode(value: object, default: BookingMode) -> BookingMode:
    if value in (None, ""):
        return default
    mode = BookingMode.parse(value)
    if mode is None:
        names = ", ".join(BookingMode)
        raise ValueError(f"booking_mode: {str(value)[:40]!r} is not one of {names}")
    return mode
