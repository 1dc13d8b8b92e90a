"""The simulated administrations and e-Boekhouden's business rules (no HTTP, no XML).

Error codes: e-Boekhouden's real ``LastErrorCode`` catalogue is not public (NOTES.md §8).
The codes below are ours; ``app/clients/eboekhouden/errors.py`` maps them, and the
contract test checks that every code here is in that table. Change both together when
real codes are recorded. Descriptions put the offending value in single quotes.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

LOGIN_INVALID = "INLOG_ONGELDIG"
SECURITYCODE2_INVALID = "BEVEILIGINGSCODE_ONGELDIG"
SESSION_INVALID = "SESSIE_ONGELDIG"
RELATION_UNKNOWN = "RELATIE_ONBEKEND"
RELATION_EXISTS = "RELATIE_BESTAAT"
LEDGER_UNKNOWN = "GROOTBOEK_ONBEKEND"
BTW_CODE_INVALID = "BTWCODE_ONGELDIG"
INVOICE_EXISTS = "FACTUURNUMMER_BESTAAT"
AMOUNTS_MISMATCH = "BEDRAG_ONGELIJK"
FIELD_REQUIRED = "VELD_VERPLICHT"
VALUE_INVALID = "WAARDE_ONGELDIG"

ALL_CODES = frozenset(
    {
        LOGIN_INVALID,
        SECURITYCODE2_INVALID,
        SESSION_INVALID,
        RELATION_UNKNOWN,
        RELATION_EXISTS,
        LEDGER_UNKNOWN,
        BTW_CODE_INVALID,
        INVOICE_EXISTS,
        AMOUNTS_MISMATCH,
        FIELD_REQUIRED,
        VALUE_INVALID,
    }
)

DEFAULT_SESSION_LIFETIME = 30 * 60.0  # seconds of inactivity (assumption; NOTES §3)
GET_MUTATIES_CAP = 500  # "at most the last 500 mutations" (NOTES §11)

# e-Boekhouden's standard chart (the part a webshop needs): code, description,
# Categorie (NOTES §7), Groep.
STANDARD_CHART: tuple[tuple[str, str, str, str], ...] = (
    ("0100", "Inventaris", "BAL", "Vaste activa"),
    ("1000", "Kas", "FIN", "Liquide middelen"),
    ("1010", "Betaalprovider", "FIN", "Liquide middelen"),
    ("1100", "Bank", "FIN", "Liquide middelen"),
    ("1300", "Debiteuren", "DEB", "Vorderingen"),
    ("1500", "BTW af te dragen hoog", "AF19", "BTW"),
    ("1510", "BTW af te dragen laag", "AF6", "BTW"),
    ("1520", "BTW af te dragen overig", "AFOVERIG", "BTW"),
    ("1530", "BTW te vorderen", "VOOR", "BTW"),
    ("1540", "BTW rekening courant", "BTWRC", "BTW"),
    ("1600", "Crediteuren", "CRED", "Kortlopende schulden"),
    ("2000", "Tussenrekening", "BAL", "Kortlopende schulden"),
    ("4000", "Algemene kosten", "VW", "Kosten"),
    ("7000", "Inkoopwaarde van de omzet", "VW", "Kostprijs"),
    ("8000", "Omzet groep 1", "VW", "Omzet"),
    ("8010", "Omzet groep 2", "VW", "Omzet"),
    ("8020", "Omzet groep 3", "VW", "Omzet"),
    ("8100", "Omzet verzendkosten", "VW", "Omzet"),
    ("8900", "Kortingen en betalingsverschillen", "VW", "Omzet"),
)

# NOTES §9.
BTW_CODES = frozenset(
    {
        "HOOG_VERK_21", "HOOG_VERK", "LAAG_VERK_9", "LAAG_VERK", "VERL_VERK",
        "VERL_VERK_L9", "BI_EU_VERK", "BI_EU_VERK_D", "BU_EU_VERK", "AFST_VERK",
        "AFW_VERK", "AFW", "HOOG_INK_21", "HOOG_INK", "LAAG_INK_9", "LAAG_INK",
        "VERL_INK", "VERL_INK_L9", "VERL_INK_L", "BI_EU_INK", "BU_EU_INK", "GEEN",
    }
)  # fmt: skip

# The rate each sales code implies (NOTES §9), for a row changed "by hand" (test helper).
CODE_RATES = {"HOOG_VERK_21": 21, "HOOG_VERK": 19, "LAAG_VERK_9": 9, "LAAG_VERK": 9}

INVOICE_SOORTEN = frozenset(
    {"FactuurOntvangen", "FactuurVerstuurd", "FactuurbetalingOntvangen", "FactuurbetalingVerstuurd"}
)
_ids = itertools.count(1)


class BusinessError(Exception):
    """Answered in the result's ErrorMsg (HTTP 200), as e-Boekhouden does."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


@dataclass
class Administration:
    username: str
    code1: str
    code2: str
    name: str
    city: str = ""
    guid: str = field(default_factory=lambda: str(uuid.uuid4()).upper())
    ledgers: dict[str, dict[str, Any]] = field(default_factory=dict)
    relations: list[dict[str, Any]] = field(default_factory=list)
    mutations: list[dict[str, Any]] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)

    def seed(self) -> None:
        self.ledgers.clear()
        for code, description, category, group in STANDARD_CHART:
            self.add_ledger(code, description, category, group)

    def add_ledger(self, code: str, description: str, category: str, group: str = "") -> None:
        self.ledgers[code] = {
            "ID": next(_ids),
            "Code": code,
            "Omschrijving": description,
            "Categorie": category,
            "Groep": group,
        }

    def relation(self, code: str) -> dict[str, Any] | None:
        wanted = code.strip().casefold()
        return next((r for r in self.relations if r["Code"].casefold() == wanted), None)


@dataclass
class Session:
    id: str
    username: str
    last_used: float


class Bookkeeping:
    """All administrations and sessions. Not thread-safe: the app holds one lock."""

    def __init__(self, clock: Callable[[], float], session_lifetime: float) -> None:
        self.clock = clock
        self.session_lifetime = session_lifetime
        self.administrations: dict[str, Administration] = {}
        self.sessions: dict[str, Session] = {}
        self.next_mutation_nr = 1
        self.next_relation_id = 100001

    def reset(self) -> None:
        """Empty books for every administration (credentials stay)."""
        for admin in self.administrations.values():
            admin.relations.clear()
            admin.mutations.clear()
            admin.calls.clear()
            admin.sources.clear()
            admin.seed()
        self.sessions.clear()

    def add_administration(
        self, username: str, code1: str, code2: str, **kw: str
    ) -> Administration:
        admin = Administration(username, code1, code2, kw.get("name") or f"Webshop {username}")
        admin.city = kw.get("city", "")
        admin.seed()
        self.administrations[username] = admin
        return admin

    def admin(self, username: str) -> Administration:
        return self.administrations[username]

    # -- sessions ----------------------------------------------------------------------

    def open_session(self, username: str, code1: str, code2: str, source: str) -> str:
        admin = self.administrations.get(username or "")
        if admin is None or (code1, code2) != (admin.code1, admin.code2):
            raise BusinessError(LOGIN_INVALID, "Gebruikersnaam of beveiligingscode onjuist.")
        admin.calls["OpenSession"] += 1
        admin.sources[source or ""] += 1
        session = Session(str(uuid.uuid4()), username, self.clock())
        self.sessions[session.id] = session
        return session.id

    def close_session(self, session_id: str) -> None:
        session = self.sessions.pop(session_id or "", None)
        if session is not None:
            self.administrations[session.username].calls["CloseSession"] += 1

    def expire_sessions(self, username: str | None = None) -> int:
        doomed = [s.id for s in self.sessions.values() if username in (None, s.username)]
        for session_id in doomed:
            del self.sessions[session_id]
        return len(doomed)

    def resolve(self, session_id: str | None, code2: str | None, operation: str) -> Administration:
        """The administration of a live session; counts the call against it."""
        session = self.sessions.get(session_id or "")
        if session is not None and self.clock() - session.last_used > self.session_lifetime:
            del self.sessions[session.id]
            session = None
        if session is None:
            raise BusinessError(SESSION_INVALID, "Sessie is verlopen of ongeldig.")
        admin = self.administrations[session.username]
        admin.calls[operation] += 1
        if code2 != admin.code2:
            raise BusinessError(SECURITYCODE2_INVALID, "Beveiligingscode 2 is onjuist.")
        session.last_used = self.clock()
        return admin

    # -- mutations ---------------------------------------------------------------------

    def add_mutatie(self, admin: Administration, mut: dict[str, Any] | None) -> int:
        if not mut:
            raise BusinessError(FIELD_REQUIRED, "Veld 'oMut' is verplicht.")
        soort = mut["Soort"]
        in_ex = (mut.get("InExBTW") or "").upper()
        if in_ex not in ("IN", "EX"):
            raise BusinessError(
                VALUE_INVALID, f"Veld 'InExBTW' moet IN of EX zijn, niet '{in_ex}'."
            )
        self._ledger(admin, mut.get("Rekening"), "Rekening")
        invoice = (mut.get("Factuurnummer") or "").strip()
        if soort in INVOICE_SOORTEN:
            code = (mut.get("RelatieCode") or "").strip()
            if not code:
                raise BusinessError(
                    FIELD_REQUIRED, f"Veld 'RelatieCode' is verplicht bij '{soort}'."
                )
            if admin.relation(code) is None:
                raise BusinessError(RELATION_UNKNOWN, f"Relatie met code '{code}' bestaat niet.")
            if not invoice:
                raise BusinessError(
                    FIELD_REQUIRED, f"Veld 'Factuurnummer' is verplicht bij '{soort}'."
                )
        # A sales invoice number is unique in the administration, whoever booked the first
        # one (another shop, a hand-made invoice): NOTES.md §4.1, REST MUT_019 "Invoice
        # number already exists". Payments reuse the number of the invoice they pay.
        if soort == "FactuurVerstuurd" and any(
            m["Soort"] == soort
            and (m["Factuurnummer"] or "").strip().casefold() == invoice.casefold()
            for m in admin.mutations
        ):
            raise BusinessError(
                INVOICE_EXISTS,
                f"Factuurnummer '{invoice}' bestaat al (MUT_019: Invoice number already exists).",
            )
        rows = mut.get("MutatieRegels") or []
        if not rows:
            raise BusinessError(FIELD_REQUIRED, "Een mutatie heeft minstens één regel nodig.")
        for number, row in enumerate(rows, start=1):
            self._check_row(admin, number, row)
        stored = copy.deepcopy(mut)
        stored["MutatieNr"] = self.next_mutation_nr
        stored["InExBTW"] = in_ex
        self.next_mutation_nr += 1
        admin.mutations.append(stored)
        return stored["MutatieNr"]

    def _check_row(self, admin: Administration, number: int, row: dict[str, Any] | None) -> None:
        if row is None:
            raise BusinessError(FIELD_REQUIRED, f"Regel {number} is leeg.")
        self._ledger(admin, row.get("TegenrekeningCode"), "TegenrekeningCode")
        btw = (row.get("BTWCode") or "").strip()
        if btw not in BTW_CODES:
            raise BusinessError(BTW_CODE_INVALID, f"BTW-code '{btw}' is ongeldig (regel {number}).")
        excl, vat, incl = row["BedragExclBTW"], row["BedragBTW"], row["BedragInclBTW"]
        if excl + vat != incl:
            raise BusinessError(
                AMOUNTS_MISMATCH,
                f"Regel {number}: BedragInclBTW {incl} is niet gelijk aan "
                f"BedragExclBTW + BedragBTW ({excl + vat}).",
            )

    @staticmethod
    def _ledger(admin: Administration, code: str | None, field_name: str) -> None:
        code = (code or "").strip()
        if not code:
            raise BusinessError(FIELD_REQUIRED, f"Veld '{field_name}' is verplicht.")
        if code not in admin.ledgers:
            raise BusinessError(
                LEDGER_UNKNOWN, f"Grootboekrekening met code '{code}' bestaat niet."
            )

    def get_mutaties(
        self, admin: Administration, flt: dict[str, Any], cap: int
    ) -> list[dict[str, Any]]:
        """The last ``cap`` matching mutations, oldest first, shaped as ``cMutatieList``."""
        nr, nr_from, nr_to = flt["MutatieNr"], flt.get("MutatieNrVan"), flt.get("MutatieNrTm")
        invoice = (flt.get("Factuurnummer") or "").strip().casefold()
        day_from, day_to = flt["DatumVan"].date(), flt["DatumTm"].date()
        found = [
            m
            for m in admin.mutations
            if (not nr or m["MutatieNr"] == nr)
            and (not nr_from or m["MutatieNr"] >= nr_from)
            and (not nr_to or m["MutatieNr"] <= nr_to)
            and (not invoice or (m["Factuurnummer"] or "").casefold() == invoice)
            and day_from <= m["Datum"].date() <= day_to
        ]
        return [_listed(m) for m in found[-cap:]]

    # -- by hand (what a person does in e-Boekhouden's own screens; test helpers) ------

    @staticmethod
    def _stored(admin: Administration, number: int) -> dict[str, Any]:
        for mutation in admin.mutations:
            if mutation["MutatieNr"] == number:
                return mutation
        raise KeyError(f"no mutation {number} in {admin.username}")

    def delete_mutation(self, admin: Administration, number: int) -> None:
        admin.mutations.remove(self._stored(admin, number))

    def change_mutation(
        self,
        admin: Administration,
        number: int,
        *,
        row: int = 0,
        incl: Decimal | None = None,
        btw_code: str | None = None,
        ledger: str | None = None,
        date: dt.date | None = None,
    ) -> dict[str, Any]:
        """Change one row as a person would: its amount incl. VAT, BTW code or ledger
        (the VAT is computed again from the code's rate), or the mutation's date."""
        mutation = self._stored(admin, number)
        line = mutation["MutatieRegels"][row]
        if ledger is not None:
            self._ledger(admin, ledger, "TegenrekeningCode")
            line["TegenrekeningCode"] = ledger
        if btw_code is not None:
            if btw_code not in BTW_CODES:
                raise BusinessError(BTW_CODE_INVALID, f"BTW-code '{btw_code}' is ongeldig.")
            line["BTWCode"] = btw_code
            line["BTWPercentage"] = Decimal(CODE_RATES.get(btw_code, 0))
        amount = Decimal(line["BedragInclBTW"]) if incl is None else Decimal(incl)
        rate = Decimal(line["BTWPercentage"])
        vat = (amount * rate / (100 + rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        line.update(BedragInvoer=amount, BedragInclBTW=amount, BedragBTW=vat)
        line["BedragExclBTW"] = amount - vat
        if date is not None:
            mutation["Datum"] = dt.datetime.combine(date, dt.time())
        return copy.deepcopy(mutation)

    # -- relations, ledgers, administrations --------------------------------------------

    def add_relatie(self, admin: Administration, rel: dict[str, Any] | None) -> int:
        if not rel:
            raise BusinessError(FIELD_REQUIRED, "Veld 'oRel' is verplicht.")
        code = (rel.get("Code") or "").strip()
        if not code:
            raise BusinessError(FIELD_REQUIRED, "Veld 'Code' is verplicht.")
        if not (rel.get("Bedrijf") or "").strip():
            raise BusinessError(FIELD_REQUIRED, "Veld 'Bedrijf' is verplicht.")
        if rel.get("BP") not in ("B", "P"):
            raise BusinessError(
                VALUE_INVALID, f"Veld 'BP' moet B of P zijn, niet '{rel.get('BP') or ''}'."
            )
        if admin.relation(code) is not None:
            raise BusinessError(RELATION_EXISTS, f"Relatie met code '{code}' bestaat al.")
        stored = {k: ("" if v is None else v) for k, v in rel.items()}
        stored["ID"] = self.next_relation_id
        self.next_relation_id += 1
        admin.relations.append(stored)
        return stored["ID"]

    @staticmethod
    def update_relatie(admin: Administration, rel: dict[str, Any] | None) -> None:
        """Full replace of the relation with ``ID`` (whether e-Boekhouden blanks omitted
        fields is undocumented; the simulator does)."""
        if not rel:
            raise BusinessError(FIELD_REQUIRED, "Veld 'oRel' is verplicht.")
        index = next((i for i, r in enumerate(admin.relations) if r["ID"] == rel["ID"]), None)
        if index is None:
            raise BusinessError(RELATION_UNKNOWN, f"Relatie met ID '{rel['ID']}' bestaat niet.")
        code = (rel.get("Code") or "").strip()
        other = admin.relation(code)
        if not code or not (rel.get("Bedrijf") or "").strip():
            raise BusinessError(FIELD_REQUIRED, "Velden 'Code' en 'Bedrijf' zijn verplicht.")
        if other is not None and other["ID"] != rel["ID"]:
            raise BusinessError(RELATION_EXISTS, f"Relatie met code '{code}' bestaat al.")
        admin.relations[index] = {k: ("" if v is None else v) for k, v in rel.items()}

    @staticmethod
    def get_relaties(admin: Administration, flt: dict[str, Any]) -> list[dict[str, Any]]:
        rel_id, code = flt["ID"], (flt.get("Code") or "").strip().casefold()
        keyword = (flt.get("Trefwoord") or "").strip().casefold()
        searched = ("Code", "Bedrijf", "Plaats", "Contactpersoon", "Email", "BP")
        return [
            copy.deepcopy(r)
            for r in admin.relations
            if (not rel_id or r["ID"] == rel_id)
            and (not code or r["Code"].casefold() == code)
            and (not keyword or any(keyword in str(r.get(k) or "").casefold() for k in searched))
        ]

    @staticmethod
    def get_grootboekrekeningen(admin: Administration, flt: dict[str, Any]) -> list[dict[str, Any]]:
        gb_id, code, category = flt["ID"], flt.get("Code") or "", flt.get("Categorie") or ""
        return [
            dict(g)
            for g in admin.ledgers.values()
            if (not gb_id or g["ID"] == gb_id)
            and (not code or g["Code"] == code)
            and (not category or g["Categorie"] == category)
        ]

    @staticmethod
    def get_administraties(admin: Administration) -> list[dict[str, Any]]:
        start = dt.date(dt.date.today().year, 1, 1).strftime("%d-%m-%Y")
        return [
            {
                "Bedrijf": admin.name,
                "Plaats": admin.city,
                "Guid": admin.guid,
                "StartBoekjaar": start,
            }
        ]


def _listed(m: dict[str, Any]) -> dict[str, Any]:
    """A stored mutation as ``cMutatieList`` (no Betalingskenmerk; rows carry Factuurnummer)."""
    rows = [dict(r, Factuurnummer=m.get("Factuurnummer") or "") for r in m["MutatieRegels"]]
    listed = {k: (v if v is not None else "") for k, v in m.items() if k != "Betalingskenmerk"}
    listed["MutatieRegels"] = [
        {k: (v if v is not None else "") for k, v in r.items()} for r in rows
    ]
    return listed
