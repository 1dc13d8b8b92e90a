"""What e-Boekhouden's ``LastErrorCode`` values mean, and what the shop owner reads.

**The codes in ``ERROR_CODES`` are our assumption, not e-Boekhouden's documentation.** No
public source shows a real ``LastErrorCode`` (NOTES.md §8). The simulator
(``sandbox/eboekhouden/state.py``) answers with exactly these codes, and
``tests/test_eboekhouden_contract.py`` checks that every code it can emit is in this table.

When real codes are recorded (sandbox account: wrong security code, expired session,
unknown RelatieCode, duplicate Factuurnummer, unknown ledger, bad BTW code):

1. add or rename the keys of ``ERROR_CODES`` below (keep the exception class; adjust
   ``pattern`` if the real description carries the value in another form);
2. change the matching constants in ``sandbox/eboekhouden/state.py`` so the simulator
   speaks the same language, and save the captured envelopes in
   ``tests/payloads/eboekhouden/`` for the contract test;
3. check ``TEXT_RULES``: they catch session and duplicate-invoice errors by their wording
   while the codes are unknown (and ``rule_for`` a taken relation code on AddRelatie,
   app/clients/meaning.py).

A code that is in neither table is treated as permanent (``UpstreamRejectedError``) and its
raw code and text are shown to the shop owner; on ``OpenSession`` it is a
``BookkeepingAuthError``, because that call only carries the credentials.

Explanation templates are ``str.format`` strings: one Dutch sentence (or two) saying what
happened and what to do. Their fields: ``operation`` (filled with the Dutch name of the call,
``OPERATIONS``), the named groups of ``pattern`` (values: a ledger, a BTW code, a relation
code, matched against the description) and the context the client passes
(``invoice_number``, ``relation_code``). e-Boekhouden's own code and text never go into the
sentence: they are in the exception's message, which the pages show as "Technische melding"
under it. When a field is missing the rule's ``fallback`` is used instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from app.clients.meaning import says_already_exists
from app.errors import (
    BookkeepingAuthError,
    DuplicateInvoiceError,
    RelationExistsError,
    SessionExpiredError,
    UnknownRelationError,
    UpstreamError,
    UpstreamRejectedError,
)

SYSTEM = "eboekhouden"

_CREDENTIALS_HELP = (
    "Controleer de gebruikersnaam en beveiligingscodes in e-Boekhouden onder Beheer > "
    "Instellingen > Koppelingen (API/SOAP) en vul ze opnieuw in bij Gegevens van de koppeling."
)


@dataclass(frozen=True, slots=True)
class ErrorRule:
    exception: type[UpstreamError]
    explanation: str
    pattern: str = ""  # regex on LastErrorDescription; named groups fill the template
    fallback: str = ""  # used when a template field is missing


ERROR_CODES: dict[str, ErrorRule] = {
    "INLOG_ONGELDIG": ErrorRule(
        BookkeepingAuthError,
        "e-Boekhouden weigert de inloggegevens. " + _CREDENTIALS_HELP,
    ),
    "BEVEILIGINGSCODE_ONGELDIG": ErrorRule(
        BookkeepingAuthError,
        "e-Boekhouden weigert beveiligingscode 2. " + _CREDENTIALS_HELP,
    ),
    "SESSIE_ONGELDIG": ErrorRule(
        SessionExpiredError,
        "De sessie bij e-Boekhouden was verlopen. De koppeling probeert het later "
        "automatisch opnieuw.",
    ),
    "RELATIE_ONBEKEND": ErrorRule(
        UnknownRelationError,
        "Relatie {relation_code} bestaat niet in e-Boekhouden. Controleer of de relatie "
        "is verwijderd of hernoemd, en boek de bestelling daarna opnieuw.",
        pattern=r"'(?P<relation_code>[^']+)'",
        fallback="De relatie van deze boeking bestaat niet in e-Boekhouden. Controleer of "
        "de relatie is verwijderd of hernoemd, en boek de bestelling daarna opnieuw.",
    ),
    "RELATIE_BESTAAT": ErrorRule(
        RelationExistsError,
        "Relatiecode {relation_code} is in e-Boekhouden al in gebruik voor een andere "
        "relatie. Pas de relatiecode aan in e-Boekhouden.",
        pattern=r"'(?P<relation_code>[^']+)'",
        fallback="De relatiecode is in e-Boekhouden al in gebruik. Pas de relatiecode aan "
        "in e-Boekhouden.",
    ),
    "GROOTBOEK_ONBEKEND": ErrorRule(
        UpstreamRejectedError,
        "Grootboekrekening {ledger} bestaat niet in e-Boekhouden. Maak hem aan of kies "
        "een andere rekening bij Instellingen.",
        pattern=r"'(?P<ledger>[^']+)'",
        fallback="Een grootboekrekening van deze boeking bestaat niet in e-Boekhouden (zie "
        "de technische melding). Maak hem aan of kies een andere rekening bij Instellingen.",
    ),
    "BTWCODE_ONGELDIG": ErrorRule(
        UpstreamRejectedError,
        "e-Boekhouden kent BTW-code {btw_code} niet. Kies een geldige BTW-code bij Instellingen.",
        pattern=r"'(?P<btw_code>[^']+)'",
        fallback="e-Boekhouden weigert een BTW-code van deze boeking (zie de technische "
        "melding). Kies een geldige BTW-code bij Instellingen.",
    ),
    "FACTUURNUMMER_BESTAAT": ErrorRule(
        DuplicateInvoiceError,
        "Factuurnummer {invoice_number} staat al in e-Boekhouden; de bestelling is "
        "waarschijnlijk al geboekt. Controleer de boeking in e-Boekhouden.",
        fallback="Het factuurnummer staat al in e-Boekhouden; de bestelling is "
        "waarschijnlijk al geboekt. Controleer de boeking in e-Boekhouden.",
    ),
    "BEDRAG_ONGELIJK": ErrorRule(
        UpstreamRejectedError,
        "e-Boekhouden weigert de bedragen van de boeking. Dit is een fout in de koppeling: "
        "neem contact op met support.",
    ),
    "VELD_VERPLICHT": ErrorRule(
        UpstreamRejectedError,
        "e-Boekhouden mist een verplicht gegeven (welk, staat in de technische melding). "
        "Controleer de instellingen van de koppeling of neem contact op met support.",
    ),
    "WAARDE_ONGELDIG": ErrorRule(
        UpstreamRejectedError,
        "e-Boekhouden weigert een waarde van de boeking (welke, staat in de technische "
        "melding). Controleer de instellingen van de koppeling of neem contact op met support.",
    ),
}

# Matched against "code description" when the code is not in ERROR_CODES.
TEXT_RULES: tuple[tuple[re.Pattern[str], ErrorRule], ...] = (
    (re.compile(r"sessi(e|on)", re.IGNORECASE), ERROR_CODES["SESSIE_ONGELDIG"]),
    (
        re.compile(
            r"factuur\s*(nummer|nr).*(bestaat|al gebruikt|dubbel|already)"
            r"|invoice\s*number.*(exists|duplicate)",
            re.IGNORECASE,
        ),
        ERROR_CODES["FACTUURNUMMER_BESTAAT"],
    ),
)

UNKNOWN = ErrorRule(
    UpstreamRejectedError,
    "e-Boekhouden weigerde {operation}. Opnieuw proberen helpt waarschijnlijk niet; de "
    "technische melding zegt waarom. Neem contact op met support als u niet weet wat u "
    "hiermee moet doen.",
)
UNKNOWN_ON_LOGIN = ErrorRule(
    BookkeepingAuthError,
    "e-Boekhouden weigerde de aanmelding. " + _CREDENTIALS_HELP,
)

# Transport and protocol failures (no LastErrorCode involved).
TIMEOUT = (
    "e-Boekhouden reageerde niet op tijd. De koppeling probeert het later automatisch "
    "opnieuw; controleer of de boeking al in e-Boekhouden staat voordat u iets handmatig "
    "boekt."
)
CONNECTION = (
    "De verbinding met e-Boekhouden viel weg. De koppeling probeert het later automatisch "
    "opnieuw; controleer of de boeking al in e-Boekhouden staat voordat u iets handmatig "
    "boekt."
)
UNAVAILABLE = (
    "e-Boekhouden is tijdelijk niet beschikbaar (HTTP {status}). De koppeling probeert het "
    "later automatisch opnieuw."
)
RATE_LIMITED = (
    "e-Boekhouden vraagt de koppeling even te wachten (te veel verzoeken). De koppeling "
    "probeert het later automatisch opnieuw."
)
SERVER_FAULT = (
    "e-Boekhouden had een interne fout. De koppeling probeert het later automatisch opnieuw."
)
BAD_RESPONSE = (
    "e-Boekhouden gaf een onleesbaar antwoord. De koppeling probeert het later automatisch opnieuw."
)
NO_NUMBER = (
    "e-Boekhouden bevestigde {operation} zonder nummer terug te geven. De koppeling "
    "controleert later of de boeking is aangekomen."
)
CLIENT_FAULT = (
    "e-Boekhouden kon het verzoek niet lezen. Dit is een fout in de koppeling: neem "
    "contact op met support."
)
HTTP_REJECTED = (
    "e-Boekhouden weigerde het verzoek (HTTP {status}). Controleer het SOAP-adres van "
    "e-Boekhouden in de instellingen of neem contact op met support."
)
BAD_URL = (
    "Het SOAP-adres van e-Boekhouden in de configuratie van de koppeling is ongeldig. Neem "
    "contact op met support."
)
INVALID_REQUEST = (
    "De koppeling kon geen geldig verzoek voor e-Boekhouden maken. Dit is een fout in de "
    "koppeling: neem contact op met support."
)

# The Dutch name of each call, for the sentences above ("e-Boekhouden weigerde ...").
OPERATIONS = {
    "OpenSession": "de aanmelding",
    "CloseSession": "het afmelden",
    "AddMutatie": "de boeking",
    "GetMutaties": "het opzoeken van boekingen",
    "GetRelaties": "het opzoeken van de klant",
    "AddRelatie": "het aanmaken van de klant",
    "UpdateRelatie": "het bijwerken van de klant",
    "GetGrootboekrekeningen": "het ophalen van de grootboekrekeningen",
    "GetAdministraties": "het ophalen van de administraties",
}


def action(operation: str) -> str:
    """``AddMutatie`` → ``de boeking``: a call as the Dutch sentences name it."""
    return OPERATIONS.get(operation, "het verzoek")


def rule_for(code: str, description: str, operation: str) -> ErrorRule:
    """The rule for one ErrorMsg: by code, then by wording, then the unknown default. On
    AddRelatie, any refusal that says "already exists" means our relation code is taken
    (the only unique thing AddRelatie sends): RelationExistsError, whatever its code."""
    if code in ERROR_CODES:
        return ERROR_CODES[code]
    if operation == "AddRelatie" and says_already_exists(code, description):
        return ERROR_CODES["RELATIE_BESTAAT"]
    text = f"{code} {description}"
    for pattern, rule in TEXT_RULES:
        if pattern.search(text):
            return rule
    return UNKNOWN_ON_LOGIN if operation == "OpenSession" else UNKNOWN


def explain(
    rule: ErrorRule,
    *,
    code: str,
    description: str,
    operation: str,
    context: Mapping[str, str] | None = None,
) -> str:
    """Fill the rule's Dutch template (falling back when a field is unknown)."""
    fields: dict[str, str] = {"operation": action(operation)}
    fields.update({k: v for k, v in (context or {}).items() if v})
    if rule.pattern:
        match = re.search(rule.pattern, description or "")
        if match:
            fields.update({k: v for k, v in match.groupdict().items() if v})
    try:
        return rule.explanation.format_map(fields)
    except KeyError:
        return (rule.fallback or UNKNOWN.explanation).format_map(fields)


def error_for(
    code: str,
    description: str,
    *,
    operation: str,
    context: Mapping[str, str] | None = None,
) -> UpstreamError:
    """The typed exception for a non-empty ErrorMsg (texts must already be redacted)."""
    rule = rule_for(code, description, operation)
    return rule.exception(
        f"e-Boekhouden {operation} failed: [{code or '-'}] {description or '-'}",
        system=SYSTEM,
        operation=operation,
        code=code,
        explanation=explain(
            rule, code=code, description=description, operation=operation, context=context
        ),
    )
