"""PURE: OSS (EU distance sales of goods at the destination's VAT) as e-Boekhouden books it.

e-Boekhouden has no OSS code (NOTES.md §9). The decision (docs/booking-rules.md, "OSS",
with its sources): per order and rate, the net revenue on the row's OSS revenue ledger with
code AFST_VERK ("Afstandsverkopen binnen de EU", 0 %: rubriek 3c of the Dutch return, which
asks for the turnover of distance sales whose VAT is due in the member state of arrival),
and the destination's VAT as its own row, code GEEN, on the row's "te betalen OSS-btw"
balance-sheet ledger (not Dutch VAT: it is paid through the OSS return).

The OSS return asks, per member state of consumption, the taxable amount and the VAT per
rate. So each OSS row keeps its own ledgers per member state (or per state and rate): a
ledger shared with another country, with a domestic row or between revenue and VAT makes
that return unreadable and is refused. The rate must be one of the country's rates
(app/core/eu_vat.py). ``oss_amounts`` gives the report the amounts per state and rate.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from app.core.eu_vat import rate_problem
from app.core.mapping_settings import (
    INCOME_TYPES,
    NOT_BOOKED,
    OSS_VAT,
    OSS_VAT_LABEL,
    MappingSettings,
    TaxRule,
    describe_treatment,
)
from app.core.vat import Bucket, stated_vat, vat_of

OSS_REVENUE_CODE = "AFST_VERK"
OSS_VAT_CODE = "GEEN"
ZERO = Decimal("0")


def is_oss(treatment: str) -> bool:
    return treatment.startswith("oss:")


def oss_country_rate(treatment: str) -> tuple[str, Decimal]:
    _, country, rate = treatment.split(":")
    return country, Decimal(rate)


def uses_oss(settings: MappingSettings) -> bool:
    """The shop declares destination VAT for distance sales: it has an OSS row."""
    return any(is_oss(rule.treatment) for rule in settings.rules)


def _country(treatment: str) -> str:
    return oss_country_rate(treatment)[0] if is_oss(treatment) else ""


def _uses(settings: MappingSettings) -> dict[str, list[tuple[str, str]]]:
    """Ledger code → (treatment, role) of every place that books on it."""
    uses: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for rule in settings.rules:
        for income in INCOME_TYPES:
            if ledger := rule.ledger_for(income):
                uses[ledger].append((rule.treatment, "omzet"))
        if is_oss(rule.treatment) and (ledger := rule.ledgers.get(OSS_VAT, "")):
            uses[ledger].append((rule.treatment, OSS_VAT))
    uses[settings.debtors_ledger].append(("debiteuren", ""))
    for line_type, ledger in settings.line_type_ledgers.items():
        uses[ledger].append((f"orderregels '{line_type}'", ""))
    for method, ledger in settings.payment_ledgers.items():
        if ledger != NOT_BOOKED:
            uses[ledger].append((f"betaalmethode {method}", ""))
    return uses


def _clash(rule: TaxRule, role: str, other: str, other_role: str) -> bool:
    """May ``rule``'s ledger (in ``role``) not also serve ``other`` (in ``other_role``)?
    The same country may share its revenue ledgers and its VAT ledger over its rates."""
    if other == rule.treatment:
        return role != other_role
    if _country(other) and _country(other) == _country(rule.treatment):
        return role != other_role
    return True


def rule_problems(
    settings: MappingSettings, rule: TaxRule, on: dt.date | None = None
) -> dict[str, str]:
    """What is wrong with one OSS row (field → Dutch), for the settings page and the
    booking alike; ``on``: the invoice date the rate must apply on."""
    label = describe_treatment(rule.treatment)
    prefix = f"rules.{rule.treatment}"
    country, rate = oss_country_rate(rule.treatment)
    problems: dict[str, str] = {}
    if rule.btw_code != OSS_REVENUE_CODE:
        problems[f"{prefix}.btw_code"] = (
            f"Bij {label} staat BTW-code {rule.btw_code or '(geen)'}, maar e-Boekhouden heeft "
            f"geen OSS-code: kies {OSS_REVENUE_CODE} (afstandsverkopen binnen de EU, 0%). Die "
            "omzet hoort in rubriek 3c van de Nederlandse btw-aangifte; de btw van "
            f"{country} komt op de rekening '{OSS_VAT_LABEL}'."
        )
    wrong_rate = rate_problem(country, rate, on)
    if wrong_rate:
        problems[f"{prefix}.rate"] = (
            f"{wrong_rate}. Verwijder de regel {label} of controleer het tarief in Mijnwebwinkel."
        )
    uses = _uses(settings)
    roles = [(income, "omzet", rule.ledger_for(income)) for income in INCOME_TYPES]
    roles.append((OSS_VAT, OSS_VAT, rule.ledgers.get(OSS_VAT, "")))
    for field, role, ledger in roles:
        others = [o for o, o_role in uses.get(ledger, []) if _clash(rule, role, o, o_role)]
        if ledger and others:
            what = "btw-rekening" if role == OSS_VAT else "omzetrekening"
            problems[f"{prefix}.{field}"] = (
                f"Grootboekrekening {ledger} wordt ook gebruikt voor "
                f"{describe_treatment(others[0])}. Geef {label} een eigen {what} (per land, "
                "of per land en tarief): de OSS-aangifte vraagt omzet en btw per land en "
                "tarief, en die zijn alleen zo van de rekeningen af te lezen."
            )
    return problems


@dataclass(frozen=True, slots=True)
class OssAmount:
    """One line of the OSS return: a member state and rate, its net amount and VAT."""

    country: str
    rate: Decimal
    net: Decimal  # signed like the booking
    vat: Decimal

    def to_json(self) -> dict[str, str]:
        return {
            "country": self.country,
            "rate": format(self.rate.normalize(), "f"),
            "net": str(self.net),
            "vat": str(self.vat),
        }


def oss_amounts(
    country: str, buckets: list[Bucket], tax: dict[Decimal, Decimal] | None
) -> tuple[OssAmount, ...]:
    """Per rate, the net amount and the VAT the OSS rows of an order to ``country`` carry
    (the VAT is the order's own per rate, as app.core.vat.oss_rows books it)."""
    parts: dict[Decimal, list[Decimal]] = defaultdict(list)
    for bucket in buckets:
        parts[bucket.rate].extend(bucket.parts)
    found = []
    for rate, slices in parts.items():
        amount = sum(slices, ZERO)
        vat = vat_of(amount, rate)
        if tax is not None:
            vat = stated_vat({rate: tax.get(rate, ZERO)}, {rate: slices})[rate]
        found.append(OssAmount(country, rate, amount - vat, vat))
    return tuple(found)
