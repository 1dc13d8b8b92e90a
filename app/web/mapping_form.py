"""The "Stap 2 van 2" form as data: submitted fields → ``MappingSettings`` + problems.

Pure (no Flask, no I/O). Field names match ``mapping_settings.validate``'s error keys:
``rules.<treatment>.btw_code``, ``rules.<treatment>.<income type>``, ``debtors_ledger``,
``booking_mode``, ``payment_ledgers.<method>``, ``payment_term_days``, ``bookable_statuses``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal, InvalidOperation

from werkzeug.datastructures import MultiDict

from app.core.eu_vat import country_name, rate_problem
from app.core.mapping_settings import (
    DEFAULT_RULES,
    EU_COUNTRIES,
    HOME_COUNTRY,
    INCOME_TYPES,
    NUMBER,
    OSS_VAT,
    MappingSettings,
    TaxRule,
    oss_key,
)
from app.core.oss import OSS_REVENUE_CODE
from app.states import BookingMode, VatPeriod

STANDARD_TREATMENTS = tuple(rule.treatment for rule in DEFAULT_RULES)
OSS_COUNTRIES = tuple(sorted(EU_COUNTRIES - {HOME_COUNTRY}))
_OSS = re.compile(r"^oss:([A-Z]{2}):([0-9]{1,2}(?:\.[0-9]{1,2})?)$")
_RATE = re.compile(r"[0-9]{1,2}(?:\.[0-9]{1,2})?")
# Line types that are no revenue and get a ledger on this page (others: the settings JSON).
# A select for gift_card also maps its spelling giftcard.
PAYMENT_LINE_TYPES = {
    "gift_card": "Cadeaubonnen",
    "voucher": "Waardebonnen",
    "store_credit": "Tegoed",
}
ALIASES = {"gift_card": ("giftcard",)}
TERM = "De betalingstermijn is een aantal dagen (0 tot 9999)."
LOOKBACK = "Vul een aantal dagen in (1 tot 3650), of laat het leeg voor de standaard."


Form = MultiDict[str, str]


def ordered_rules(rules: Iterable[TaxRule]) -> tuple[TaxRule, ...]:
    """The standard rows first (added from the defaults when missing), then OSS rows."""
    by_key = {rule.treatment: rule for rule in rules}
    standard = tuple(by_key.get(d.treatment, d) for d in DEFAULT_RULES)
    others = sorted(
        (r for k, r in by_key.items() if k not in STANDARD_TREATMENTS), key=lambda r: r.treatment
    )
    return (*standard, *others)


def _valid_treatment(key: str) -> bool:
    match = _OSS.match(key)
    return key in STANDARD_TREATMENTS or bool(match and match.group(1) in OSS_COUNTRIES)


def ascii_number(text: str, digits: int) -> int | None:
    """``text`` as a whole number of at most ``digits`` ASCII digits, else None. (Python's
    ``isdigit`` and ``int`` also take ``²`` or Arabic-Indic digits; ``²`` made a 500.)"""
    text = text.strip()
    if not (0 < len(text) <= digits and text.isascii() and text.isdigit()):
        return None
    return int(text)


def _statuses(
    values: list[str], known: set[int] | None, field: str, errors: dict[str, str]
) -> frozenset[int]:
    statuses = set()
    for value in values:
        number = ascii_number(value, 9)
        if number is None or (known is not None and number not in known):
            errors[field] = "Kies alleen orderstatussen uit de lijst."
            continue
        statuses.add(number)
    return frozenset(statuses)


def parse(
    form: Form, base: MappingSettings, known_statuses: set[int] | None = None
) -> tuple[MappingSettings, dict[str, str]]:
    """The settings as submitted (``base`` supplies what the form does not carry)."""
    errors: dict[str, str] = {}
    rules = []
    for treatment in dict.fromkeys(form.getlist("treatment")):
        if not _valid_treatment(treatment):
            continue
        prefix = f"rules.{treatment}"
        incomes = (*INCOME_TYPES, OSS_VAT) if treatment.startswith("oss:") else INCOME_TYPES
        ledgers = {income: (form.get(f"{prefix}.{income}") or "").strip() for income in incomes}
        code = (form.get(f"{prefix}.btw_code") or "").strip().upper()
        rules.append(TaxRule(treatment, code, ledgers))
    term = ascii_number(form.get("payment_term_days") or "", 4)
    if term is None:
        errors["payment_term_days"] = TERM
        term = base.payment_term_days
    mode = BookingMode.parse(form.get("booking_mode") or "")
    if mode is None:
        errors["booking_mode"] = "Kies hoe bestellingen geboekt worden."
    period = VatPeriod.parse(form.get("vat_period") or base.vat_period)
    if period is None:
        errors["vat_period"] = "Kies hoe vaak u btw-aangifte doet."
    lookback = _lookback(form, base, errors)
    payments_from = _payments_from(form, base, errors)
    settings = replace(
        base,
        rules=ordered_rules(rules),
        debtors_ledger=(form.get("debtors_ledger") or "").strip(),
        booking_mode=mode or base.booking_mode,
        payment_ledgers=_payment_ledgers(form, base),
        payment_term_days=term,
        invoice_format=(form.get("invoice_format") or "").strip() or NUMBER,
        collective_debtor=(form.get("collective_debtor") or "").strip(),
        vat_period=period or base.vat_period,
        payment_lookback_days=lookback,
        payments_from=payments_from,
        line_type_ledgers=_line_type_ledgers(form, base.line_type_ledgers),
        bookable_statuses=_statuses(
            form.getlist("bookable_statuses"), known_statuses, "bookable_statuses", errors
        ),
        credit_statuses=_statuses(
            form.getlist("credit_statuses"), known_statuses, "credit_statuses", errors
        ),
    )
    return settings, errors


def _lookback(form: Form, base: MappingSettings, errors: dict[str, str]) -> int | None:
    """``payment_lookback_days``: empty is the standard (PAYMENT_LOOKBACK_DAYS)."""
    if "payment_lookback_days" not in form:
        return base.payment_lookback_days
    text = (form.get("payment_lookback_days") or "").strip()
    if not text:
        return None
    if text.isdigit() and len(text) <= 4:
        return int(text)  # the range is checked by validate()
    errors["payment_lookback_days"] = LOOKBACK
    return base.payment_lookback_days


def _payments_from(form: Form, base: MappingSettings, errors: dict[str, str]) -> dt.date | None:
    """``payments_from`` (only with ``earlier_invoices`` = "from"): the date from which
    money of invoices booked without payments is booked."""
    if "earlier_invoices" not in form:
        return base.payments_from
    if form.get("earlier_invoices") != "from":
        return None
    text = (form.get("payments_from") or "").strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors["payments_from"] = "Vul de datum in vanaf wanneer betalingen geboekt worden."
        return base.payments_from


def _payment_ledgers(form: Form, base: MappingSettings) -> dict[str, str]:
    """``payment_ledgers.<method>``: a ledger code, "-" (niet boeken) or empty (not
    mapped: its payments are held back). Methods the form does not show keep theirs."""
    ledgers = dict(base.payment_ledgers)
    for key in form:
        if not key.startswith("payment_ledgers."):
            continue
        method = key.removeprefix("payment_ledgers.").strip().lower()
        value = (form.get(key) or "").strip()
        if not method or len(method) > 50:
            continue
        if value:
            ledgers[method] = value
        else:
            ledgers.pop(method, None)
    return ledgers


def _line_type_ledgers(form: Form, base: dict[str, str]) -> dict[str, str]:
    """The page's ledgers for gift cards, vouchers and store credit; types mapped in the
    settings JSON (unknown types) are kept as they are."""
    shown = {t for t in PAYMENT_LINE_TYPES} | {a for t in ALIASES for a in ALIASES[t]}
    ledgers = {t: ledger for t, ledger in base.items() if t not in shown}
    for line_type in PAYMENT_LINE_TYPES:
        ledger = (form.get(f"line_types.{line_type}") or "").strip()
        if ledger:
            for name in (line_type, *ALIASES.get(line_type, ())):
                ledgers[name] = ledger
    return ledgers


def add_oss_rule(
    settings: MappingSettings, country: str, rate_text: str
) -> tuple[MappingSettings, dict[str, str]]:
    """A new OSS row (code AFST_VERK; its revenue and OSS-VAT ledgers empty, for the user
    to choose the country's own: never the domestic ones), or why not: the rate must be
    one of the country's (app/core/data/eu_vat_rates.json)."""
    country = country.strip().upper()
    if country not in OSS_COUNTRIES:
        return settings, {"oss_country": "Kies een EU-land (niet Nederland)."}
    text = rate_text.strip().rstrip("%").strip().replace(",", ".")
    try:  # ASCII digits only: Decimal also reads other scripts' digits
        rate = Decimal(text) if _RATE.fullmatch(text) else Decimal(-1)
    except InvalidOperation:
        rate = Decimal(-1)
    if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(30) or rate != round(rate, 2):
        return settings, {"oss_rate": "Vul het btw-tarief van dat land in, bijvoorbeeld 19 of 5,5."}
    wrong = rate_problem(country, rate)
    if wrong:
        return settings, {
            "oss_rate": f"{wrong}. Vul een tarief van {country_name(country)} in.",
        }
    key = oss_key(country, rate)
    if settings.rule(key) is not None:
        return settings, {"oss_rate": f"Er is al een regel voor {country} {rate.normalize():f}%."}
    same = next((r for r in settings.rules if r.treatment.startswith(f"oss:{country}:")), None)
    # Another rate of the same country may share its ledgers; nothing else is pre-filled.
    ledgers = dict(same.ledgers) if same else {income: "" for income in (*INCOME_TYPES, OSS_VAT)}
    rule = TaxRule(key, OSS_REVENUE_CODE, ledgers)
    return replace(settings, rules=ordered_rules((*settings.rules, rule))), {}


def first_open(rule: TaxRule) -> str:
    """The field of a new OSS row to choose first: its revenue ledger, its OSS-VAT ledger,
    then the other incomes (a second rate of a country starts with the first's ledgers)."""
    order = (INCOME_TYPES[0], OSS_VAT, *INCOME_TYPES[1:])
    income = next((i for i in order if not rule.ledgers.get(i)), INCOME_TYPES[0])
    return f"rules.{rule.treatment}.{income}"


def remove_rule(settings: MappingSettings, treatment: str) -> MappingSettings:
    """Drop an OSS row (the standard rows always stay)."""
    if treatment in STANDARD_TREATMENTS:
        return settings
    return replace(settings, rules=tuple(r for r in settings.rules if r.treatment != treatment))
