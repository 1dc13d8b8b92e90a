"""Whether a shop's mapping settings can be activated: problems per field, in Dutch.

Field names: ``rules.<treatment>.btw_code``, ``rules.<treatment>.<income type>``,
``rules.<oss treatment>.rate``, ``debtors_ledger``, ``payment_ledger``, ``booking_mode``,
``bookable_statuses``, ``payment_term_days``.
"""

from __future__ import annotations

from decimal import Decimal

from app.core.mapping_settings import (
    BTW_CODE_RATES,
    EXPORT,
    INCOME_TYPES,
    MAX_LEDGER_CODE,
    MAX_LINE_TYPE,
    MAX_LOOKBACK_DAYS,
    MAX_RELATION_CODE,
    NOT_BOOKED,
    OSS_VAT,
    OSS_VAT_LABEL,
    REVERSE_CHARGE,
    MappingSettings,
    check_invoice_format,
    describe_treatment,
    rate_text,
)
from app.core.oss import is_oss, rule_problems


def validate(settings: MappingSettings, known_ledgers: set[str] | None = None) -> dict[str, str]:
    """Problems per field (Dutch), empty when the settings can be activated.

    Field names: ``rules.<treatment>.btw_code``, ``rules.<treatment>.<income type>``,
    ``debtors_ledger``, ``payment_ledger``, ``booking_mode``, ``bookable_statuses``,
    ``payment_term_days``. ``known_ledgers`` (the shop's chart, when fetched) makes
    unknown ledger codes an error too.
    """
    errors: dict[str, str] = {}

    def check_ledger(name: str, code: str, label: str) -> None:
        if not code:
            errors[name] = f"Kies een grootboekrekening voor {label}."
        elif len(code) > MAX_LEDGER_CODE:
            errors[name] = f"Grootboekcode {code} is langer dan {MAX_LEDGER_CODE} tekens."
        elif known_ledgers is not None and code not in known_ledgers:
            errors[name] = f"Grootboekrekening {code} bestaat niet in uw e-Boekhouden."

    for rule in settings.rules:
        label = describe_treatment(rule.treatment)
        prefix = f"rules.{rule.treatment}"
        oss = is_oss(rule.treatment)
        if oss:  # its code, its rate and ledgers of its own (app/core/oss.py)
            errors.update(rule_problems(settings, rule))
        if rule.btw_code not in BTW_CODE_RATES:
            errors[f"{prefix}.btw_code"] = f"Onbekende BTW-code {rule.btw_code!r} bij {label}."
        elif not oss:
            expected = _treatment_rate(rule.treatment)
            implied = BTW_CODE_RATES[rule.btw_code]
            if expected is not None and implied is not None and implied != expected:
                errors[f"{prefix}.btw_code"] = (
                    f"BTW-code {rule.btw_code} hoort bij {rate_text(implied)}%, niet bij {label}."
                )
        for income in INCOME_TYPES:
            if f"{prefix}.{income}" not in errors:
                check_ledger(f"{prefix}.{income}", rule.ledger_for(income), f"{label} ({income})")
        if oss and f"{prefix}.{OSS_VAT}" not in errors:
            check_ledger(
                f"{prefix}.{OSS_VAT}", rule.ledgers.get(OSS_VAT, ""), f"{label} ({OSS_VAT_LABEL})"
            )

    check_ledger("debtors_ledger", settings.debtors_ledger, "debiteuren")
    # Payments land on the ledger of their method ("Betaalmethoden"); an unmapped method
    # holds its payment back with a reason (app/core/payments.py), it does not block.
    for method, code in sorted(settings.payment_ledgers.items()):
        if code != NOT_BOOKED:
            check_ledger(f"payment_ledgers.{method}", code, f"betaalmethode {method}")
    if not settings.bookable_statuses:
        errors["bookable_statuses"] = "Kies minstens één orderstatus die geboekt wordt."
    if not 0 <= settings.payment_term_days <= 9999:
        errors["payment_term_days"] = "De betalingstermijn is een aantal dagen (0 tot 9999)."
    lookback = settings.payment_lookback_days
    if lookback is not None and not 1 <= lookback <= MAX_LOOKBACK_DAYS:
        errors["payment_lookback_days"] = (
            f"Vul een aantal dagen in (1 tot {MAX_LOOKBACK_DAYS}), of laat het leeg voor de "
            "standaard."
        )
    problem = check_invoice_format(settings.invoice_format)
    if problem:
        errors["invoice_format"] = problem
    debtor = settings.collective_debtor
    if debtor and (
        len(debtor) > MAX_RELATION_CODE or not debtor.isprintable() or debtor != debtor.strip()
    ):
        errors["collective_debtor"] = (
            f"Een relatiecode is hoogstens {MAX_RELATION_CODE} tekens, zonder spaties aan "
            "begin of eind."
        )
    for line_type, ledger in settings.line_type_ledgers.items():
        if not line_type or len(line_type) > MAX_LINE_TYPE or not line_type.isprintable():
            errors[f"line_types.{line_type}"] = f"Onbekende soort orderregel {line_type!r}."
        else:
            check_ledger(f"line_types.{line_type}", ledger, f"orderregels '{line_type}'")
    return errors


def _treatment_rate(treatment: str) -> Decimal | None:
    """The VAT rate a treatment's BTW code implies: fixed for domestic rates, 0 for
    reverse charge and export (OSS rows: app/core/oss.py)."""
    if treatment in (REVERSE_CHARGE, EXPORT):
        return Decimal("0")
    if treatment.startswith("rate:"):
        return Decimal(treatment.split(":", 1)[1])
    return None
