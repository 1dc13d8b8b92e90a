"""An order's tax treatments: which row of the mapping table ("Stap 2 van 2") a VAT slice
of an order belongs to, which BTW code and ledgers it gets there, and what to say when that
row is missing or cannot carry it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.core.line_types import (
    MEANS_OF_PAYMENT,
    NO_VAT_CODE,
    SALES_LINE_TYPES,
    is_service,
    unmapped_message,
)
from app.core.mapping_settings import (
    BTW_CODE_RATES,
    EU_COUNTRIES,
    EXPORT,
    HOME_COUNTRY,
    OSS_VAT,
    OSS_VAT_LABEL,
    REVERSE_CHARGE,
    MappingSettings,
    describe_treatment,
    oss_key,
    rate_key,
    rate_text,
)
from app.core.orders import (
    TAX_STRATEGY_REVERSE_CHARGE,
    TAX_STRATEGY_ZERO_PERCENT,
    Order,
    OrderLine,
)
from app.core.oss import OSS_REVENUE_CODE, is_oss, oss_country_rate, rule_problems
from app.errors import MappingError

ZERO = Decimal("0")
# Reverse charge within the EU: services get e-Boekhouden's services code (rubriek 3b and
# the opgaaf ICP's services column); export and OSS have no services code of their own.
ICP_SERVICES_CODE = "BI_EU_VERK_D"


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


def missing_rule_message(order: Order, treatment: str, rate: Decimal) -> str:
    if is_oss(treatment):
        country = treatment.split(":")[1]
        return (
            f"Bestelling {order.number} is een OSS-verkoop naar {country} tegen "
            f"{rate_text(rate)}% btw, en daarvoor is nog niets ingesteld. e-Boekhouden kent "
            f"geen OSS-code. Voeg bij Instellingen een regel voor {country} "
            f"{rate_text(rate)}% toe (BTW-code {OSS_REVENUE_CODE}, de omzet op een eigen "
            f"OSS-omzetrekening voor {country}, de btw op een eigen balansrekening "
            f"'{OSS_VAT_LABEL}')."
        )
    return (
        f"Bestelling {order.number} heeft een regel met {describe_treatment(treatment)}, "
        "en daarvoor is geen BTW-code ingesteld. Voeg die regel toe bij Instellingen."
    )


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one VAT slice is booked."""

    code: str  # BTW code
    ledger: str  # TegenrekeningCode
    vat_ledger: str = ""  # OSS: the ledger of the destination's VAT
    treatment: str = ""


def place(
    order: Order,
    settings: MappingSettings,
    position: int,
    line: OrderLine,
    rate: Decimal,
    services: bool,
) -> Placement:
    """The BTW code and ledgers of one VAT slice of an order line (``services``: the order
    sells services only, so its shipping and costs follow them)."""
    income = SALES_LINE_TYPES.get(line.type)
    mapped = settings.line_type_ledgers.get(line.type, "")
    if income is None and not mapped:
        raise MappingError(unmapped_message(order.number, position, line.type))
    if line.type in MEANS_OF_PAYMENT:
        if rate != ZERO:
            raise MappingError(
                f"Orderregel {position} van bestelling {order.number} ('{line.type}') heeft "
                f"{rate_text(rate)}% btw; een cadeaubon of tegoed boekt de koppeling alleen "
                "zonder btw. Boek deze bestelling met de hand."
            )
        return Placement(NO_VAT_CODE, mapped)
    treatment = treatment_for(order, rate)
    rule = settings.rule(treatment)
    if rule is None:
        raise MappingError(missing_rule_message(order, treatment, rate))
    label = describe_treatment(treatment)
    code = rule.btw_code
    if is_oss(treatment):
        _check_oss(order, settings, position, line, treatment)
    else:
        if treatment == REVERSE_CHARGE and is_service(line, services):
            code = ICP_SERVICES_CODE
        implied = BTW_CODE_RATES.get(code, ZERO)
        if code not in BTW_CODE_RATES or (implied is not None and implied != rate):
            raise MappingError(
                f"Bij {label} staat BTW-code {code}, maar bestelling {order.number} heeft een "
                f"regel met {rate_text(rate)}% btw. Kies bij Instellingen een BTW-code die bij "
                "dit tarief hoort."
            )
    ledger = mapped or rule.ledger_for(income or "")
    if not ledger:
        raise MappingError(
            f"Bij {label} is geen grootboekrekening voor {income} ingesteld. Vul die in bij "
            "Instellingen."
        )
    vat_ledger = rule.ledgers.get(OSS_VAT, "") if is_oss(treatment) else ""
    return Placement(code, ledger, vat_ledger, treatment)


def _check_oss(
    order: Order, settings: MappingSettings, position: int, line: OrderLine, treatment: str
) -> None:
    """An OSS row books goods only, at a rate the country has on the invoice date, on
    ledgers of its own (app/core/oss.py)."""
    label = describe_treatment(treatment)
    if is_service(line, services=False):
        raise MappingError(
            f"Orderregel {position} van bestelling {order.number} ('{line.type}') is een "
            f"dienst aan een particulier, met btw van {oss_country_rate(treatment)[0]}. "
            "e-Boekhouden heeft "
            "daarvoor geen code: afstandsverkopen (AFST_VERK) zijn goederen. Boek deze "
            "bestelling met de hand."
        )
    rule = settings.rule(treatment)
    assert rule is not None
    problems = rule_problems(settings, rule, order.date)
    if not rule.ledgers.get(OSS_VAT, ""):
        problems.setdefault(
            f"rules.{treatment}.{OSS_VAT}",
            f"Bij {label} is geen grootboekrekening voor de te betalen OSS-btw ingesteld.",
        )
    if problems:
        raise MappingError(
            f"Bestelling {order.number} is een OSS-verkoop ({label}) en kan zo niet geboekt "
            f"worden: {next(iter(problems.values()))} Pas dit aan bij Instellingen."
        )
