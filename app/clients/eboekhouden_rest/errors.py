"""e-Boekhouden REST error codes → the connector's error types, and what the owner reads.

Source: the field tables of the REST reference pages (``shared/reference/eboekhouden/rest/``,
generated from e-Boekhouden's own OpenAPI spec). Unlike the SOAP codes these are real
e-Boekhouden codes; which HTTP status carries them is **not** documented (the simulator
answers 400 for validation errors, 401 for session errors).

``ERROR_CODES`` lists every code the connector can meet: the session request, the mutation
and row fields it sends, and the relation fields it sends. Codes of endpoints it never
calls (invoices, products, cost centres, members, ledgers it does not create) are left
out; if one shows up anyway it is permanent and its code and text are shown as they are.

Session codes depend on the call: ``API_SESSION_004`` ("Access token has expired") on
``POST /v1/session`` means the API token itself has expired (the owner must make a new
one), on any other call it means our session token is stale (reopen once). ``on_login``
holds that second meaning.
"""

from __future__ import annotations

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
SESSION = "session"  # operation name of POST /v1/session

TOKEN_HELP = (
    "Maak in e-Boekhouden onder Beheer > Inrichting > Instellingen > Koppelingen > API/SOAP "
    "een nieuw API-token aan en vul het in bij Gegevens van de koppeling."
)
_OURS = "Dit is een fout in de koppeling: neem contact op met support."
_CHECK = "Controleer de instellingen van de koppeling of neem contact op met support."
_RELATION = (
    "e-Boekhouden weigert de klantgegevens van deze bestelling (welk gegeven, staat in de "
    "technische melding). Pas de klantgegevens in Mijnwebwinkel aan of neem contact op met "
    "support."
)


@dataclass(frozen=True, slots=True)
class ErrorRule:
    exception: type[UpstreamError]
    # One Dutch sentence (or two): what happened, what to do. str.format fields: operation
    # (its Dutch name, OPERATIONS) and the client's context (invoice_number,
    # relation_code). e-Boekhouden's own code and text stay out: they are in the
    # exception's message, shown as "Technische melding" under this sentence.
    explanation: str
    on_login: type[UpstreamError] | None = None  # the type on POST /v1/session, if other
    login_explanation: str = ""


def _rejected(explanation: str) -> ErrorRule:
    return ErrorRule(UpstreamRejectedError, explanation)


_LEDGER = _rejected(
    "e-Boekhouden kent een grootboekrekening van deze boeking niet (welke, staat in de "
    "technische melding). Maak de rekening aan in e-Boekhouden of kies een andere bij "
    "Instellingen."
)
_UNKNOWN_RELATION = ErrorRule(
    UnknownRelationError,
    "De relatie {relation_code} bestaat niet (meer) in e-Boekhouden. Controleer of de "
    "relatie is verwijderd en boek de bestelling daarna opnieuw.",
)
_MISSING = _rejected(
    "e-Boekhouden mist een verplicht gegeven (welk, staat in de technische melding). " + _OURS
)
_INVALID = _rejected(
    "e-Boekhouden weigert een waarde van de boeking (welke, staat in de technische melding). "
    + _CHECK
)

ERROR_CODES: dict[str, ErrorRule] = {
    # --- POST /v1/session (SessionRequest.md)
    "API_SESSION_001": _rejected("e-Boekhouden mist de bron (source) van de koppeling. " + _OURS),
    "API_SESSION_002": _rejected(
        "e-Boekhouden weigert de naam waarmee de koppeling zich meldt (de bron: hoogstens 10 "
        "letters, cijfers of spaties). De beheerder van de koppeling moet die instelling "
        "aanpassen; neem contact op met support."
    ),
    "API_SESSION_003": ErrorRule(
        BookkeepingAuthError, "Er is geen API-token voor e-Boekhouden ingevuld. " + TOKEN_HELP
    ),
    "API_SESSION_004": ErrorRule(
        SessionExpiredError,
        "De sessie bij e-Boekhouden was verlopen. De koppeling probeert het later automatisch "
        "opnieuw.",
        on_login=BookkeepingAuthError,
        login_explanation="Het API-token voor e-Boekhouden is verlopen. " + TOKEN_HELP,
    ),
    # --- POST /v1/mutation (CreateMutation.md, CreateMutationRow.md, MutationRow.md)
    "MUT_002": _MISSING,
    "MUT_003": _MISSING,
    "MUTA_001": _MISSING,
    "MUTA_004": _MISSING,
    "MUTA_005": _MISSING,
    "MUT_012": _MISSING,
    "MUT_100": _MISSING,
    "MUT_112": _MISSING,
    "MUT_120": _MISSING,
    "MUT_007": _LEDGER,
    "MUT_104": _LEDGER,
    "MUT_106": _rejected(
        "e-Boekhouden staat een grootboekrekening van deze boeking niet toe op een "
        "boekingsregel: omzetregels mogen geen bank-, debiteuren- of crediteurenrekening "
        "zijn. Kies een andere rekening bij Instellingen."
    ),
    "MUT_109": _rejected(
        "e-Boekhouden weigert een BTW-code van deze boeking (welke, staat in de technische "
        "melding). Kies bij Instellingen een BTW-code die e-Boekhouden kent."
    ),
    "MUT_013": _UNKNOWN_RELATION,
    "MUT_113": _UNKNOWN_RELATION,
    "MUT_016": _INVALID,
    "MUT_017": _INVALID,
    "MUT_018": _rejected(
        "Het factuurnummer {invoice_number} is te lang voor e-Boekhouden. Boek deze bestelling "
        "met de hand."
    ),
    "MUT_019": ErrorRule(
        DuplicateInvoiceError,
        "Factuurnummer {invoice_number} staat al in e-Boekhouden; de bestelling is "
        "waarschijnlijk al geboekt. Controleer de boeking in e-Boekhouden.",
    ),
    "MUT_101": _rejected(
        "De boeking heeft meer regels dan e-Boekhouden toestaat. Boek deze bestelling met de hand."
    ),
    "MUT_115": _rejected(
        "e-Boekhouden vindt de factuur {invoice_number} niet bij deze betaling. Controleer of "
        "de factuur in e-Boekhouden staat en boek de bestelling daarna opnieuw."
    ),
    # --- POST /v1/relation, PATCH /v1/relation/{id} (CreateRelation.md): fields we send
    "REL_049": ErrorRule(
        RelationExistsError,
        "Relatiecode {relation_code} is in e-Boekhouden al in gebruik voor een andere relatie. "
        "Pas de relatiecode aan in e-Boekhouden.",
    ),
    "REL_001": _rejected(_RELATION),
    "REL_002": _rejected(_RELATION),
    "REL_003": _rejected(_RELATION),
    "REL_005": _rejected(_RELATION),
    "REL_006": _rejected(_RELATION),
    "REL_009": _rejected(_RELATION),
    "REL_011": _rejected(_RELATION),
    "REL_012": _rejected(_RELATION),
    "REL_013": _rejected(_RELATION),
    "REL_014": _rejected(_RELATION),
    "REL_019": _rejected(_RELATION),
    "REL_022": _rejected(_RELATION),
    "REL_023": _rejected(_RELATION),
    "REL_035": _rejected(_RELATION),
}

UNKNOWN = _rejected(
    "e-Boekhouden weigerde {operation}. Opnieuw proberen helpt waarschijnlijk niet; de "
    "technische melding zegt waarom. Neem contact op met support als u niet weet wat u "
    "hiermee moet doen."
)
UNKNOWN_ON_LOGIN = ErrorRule(
    BookkeepingAuthError,
    "e-Boekhouden weigert de aanmelding met het API-token: het token is onjuist, verlopen of "
    "ingetrokken. " + TOKEN_HELP,
)

# HTTP-level answers (no code, or a code we do not know) and transport failures.
SESSION_REFUSED = (
    "De sessie bij e-Boekhouden werd geweigerd. De koppeling probeert het later automatisch "
    "opnieuw."
)
FORBIDDEN = (
    "e-Boekhouden geeft het API-token geen toegang tot {operation} (HTTP 403). Controleer de "
    "rechten van het token. " + TOKEN_HELP
)
NOT_FOUND = "e-Boekhouden kent het adres van {operation} niet (HTTP 404). " + _CHECK
TIMEOUT = (
    "e-Boekhouden reageerde niet op tijd. De koppeling probeert het later automatisch "
    "opnieuw; controleer of de boeking al in e-Boekhouden staat voordat u iets handmatig boekt."
)
CONNECTION = (
    "De verbinding met e-Boekhouden viel weg. De koppeling probeert het later automatisch "
    "opnieuw; controleer of de boeking al in e-Boekhouden staat voordat u iets handmatig boekt."
)
UNAVAILABLE = (
    "e-Boekhouden is tijdelijk niet beschikbaar (HTTP {status}). De koppeling probeert het "
    "later automatisch opnieuw."
)
RATE_LIMITED = (
    "e-Boekhouden vraagt de koppeling even te wachten (te veel verzoeken). De koppeling "
    "probeert het later automatisch opnieuw."
)
BAD_RESPONSE = (
    "e-Boekhouden gaf een onleesbaar antwoord. De koppeling probeert het later automatisch opnieuw."
)
NO_NUMBER = (
    "e-Boekhouden bevestigde {operation} zonder nummer terug te geven. De koppeling controleert "
    "later of de boeking is aangekomen."
)
HTTP_REJECTED = "e-Boekhouden weigerde {operation} (HTTP {status}). " + _CHECK
BAD_URL = "Het REST-adres van e-Boekhouden in de configuratie is ongeldig. " + _OURS
UNKNOWN_LEDGER_CODE = (
    "Grootboekrekening {ledger} bestaat niet in e-Boekhouden. Maak hem aan of kies een andere "
    "rekening bij Instellingen."
)
UNSUPPORTED_VAT_CODE = (
    "BTW-code {btw_code} bestaat niet in de REST-koppeling van e-Boekhouden. Kies bij "
    "Instellingen een actuele BTW-code (bijvoorbeeld HOOG_VERK_21 of LAAG_VERK_9)."
)
VAT_MISMATCH = (
    "e-Boekhouden zou op een regel van deze boeking {theirs} btw berekenen, de bestelling "
    "heeft {ours}. De boeking is niet verstuurd. " + _OURS
)

# The Dutch name of each call, for the sentences above ("e-Boekhouden weigerde ...").
OPERATIONS = {
    SESSION: "de aanmelding",
    "create_mutation": "de boeking",
    "get_mutation": "het ophalen van een boeking",
    "get_mutations": "het opzoeken van boekingen",
    "create_relation": "het aanmaken van de klant",
    "get_relation": "het ophalen van de klant",
    "get_relations": "het opzoeken van de klant",
    "update_relation": "het bijwerken van de klant",
    "get_ledgers": "het ophalen van de grootboekrekeningen",
    "get_linked_administrations": "het ophalen van de administraties",
}


def action(operation: str) -> str:
    """``create_mutation`` → ``de boeking``: a call as the Dutch sentences name it."""
    return OPERATIONS.get(operation, "het verzoek")


CREATE_RELATION = "create_relation"  # operation name of POST /v1/relation


def rule_for(code: str, operation: str, text: str = "") -> ErrorRule:
    """By code; a refusal of POST /v1/relation under another code that says "already
    exists" means our relation code is taken (app/clients/meaning.py)."""
    rule = ERROR_CODES.get(code)
    if rule is None and operation == CREATE_RELATION and says_already_exists(code, text):
        return ERROR_CODES["REL_049"]
    if rule is None:
        return UNKNOWN_ON_LOGIN if operation == SESSION else UNKNOWN
    return rule


def error_for(
    code: str,
    text: str,
    *,
    operation: str,
    status: int,
    context: Mapping[str, str] | None = None,
) -> UpstreamError:
    """The typed exception for an error body (``text`` must already be redacted)."""
    rule = rule_for(code, operation, text)
    cls, template = rule.exception, rule.explanation
    if operation == SESSION and rule.on_login is not None:
        cls, template = rule.on_login, rule.login_explanation
    fields = {"operation": action(operation)}
    fields.update({k: v for k, v in (context or {}).items() if v})
    try:
        explanation = template.format_map(fields)
    except KeyError:  # a context field the caller did not have
        explanation = UNKNOWN.explanation.format_map(fields)
    return cls(
        f"e-Boekhouden {operation} failed: HTTP {status} [{code or '-'}] {text or '-'}",
        system=SYSTEM,
        operation=operation,
        code=code or f"http_{status}",
        explanation=explanation,
    )
