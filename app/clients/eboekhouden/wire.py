"""Between ``app.core.mutations`` types and the dicts zeep sends and returns.

To the wire: ``Mutation``/``Relation`` (their ``to_wire`` dicts, with xsd:dateTime dates
and the array wrappers the WSDL wants) and the search filters. From the wire: the
serialized results of the Get* operations → ``BookedMutation``, ``ExistingRelation``,
``LedgerAccount``, ``Administration``. Search results are matched again here (exact,
case-insensitive): the server's filters are not relied on to be exact.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from app.clients.eboekhouden import errors as errs
from app.core.mutations import (
    Administration,
    BookedMutation,
    BookRow,
    ExistingRelation,
    LedgerAccount,
    Mutation,
    Relation,
)
from app.errors import UpstreamUnavailableError

# GetMutaties requires DatumVan/DatumTm. The range is our assumption: wide enough for any
# webshop order, inside the 1980-2049 window that other clients validate against.
SEARCH_FROM = dt.datetime(1980, 1, 1)
SEARCH_TO = dt.datetime(2049, 12, 31)


# -- to the wire -----------------------------------------------------------------------


def mutation_to_wire(mutation: Mutation) -> dict[str, Any]:
    """AddMutatie's ``oMut``."""
    wire = mutation.to_wire()
    wire["Datum"] = _as_datetime(mutation.date)
    wire["MutatieRegels"] = {"cMutatieRegel": wire["MutatieRegels"]}
    return wire


def relation_to_wire(relation: Relation, today: dt.date) -> dict[str, Any]:
    """AddRelatie's ``oRel``, added ``today``."""
    wire = relation.to_wire(today)
    wire["AddDatum"] = _as_datetime(today)
    return wire


def mutation_filter(invoice_number: str) -> dict[str, Any]:
    """GetMutaties' ``cFilter`` for one Factuurnummer."""
    return {
        "MutatieNr": 0,
        "Factuurnummer": invoice_number,
        "DatumVan": SEARCH_FROM,
        "DatumTm": SEARCH_TO,
    }


def range_filter(start: dt.date, end: dt.date, nr_from: int = 0, nr_to: int = 0) -> dict[str, Any]:
    """GetMutaties' ``cFilter`` for every mutation dated in [start, end] (inclusive), and
    with a number in [nr_from, nr_to] when those are not 0."""
    return {
        "MutatieNr": 0,
        "MutatieNrVan": nr_from or None,
        "MutatieNrTm": nr_to or None,
        "DatumVan": _as_datetime(start),
        "DatumTm": _as_datetime(end),
    }


# -- from the wire ---------------------------------------------------------------------


def listed_mutations(result: dict[str, Any]) -> list[BookedMutation]:
    """Every mutation of a GetMutaties answer."""
    return [_booked_mutation(item) for item in _items(result.get("Mutaties"), "cMutatieList")]


def booked_mutations(result: dict[str, Any], invoice_number: str) -> list[BookedMutation]:
    """GetMutaties' mutations whose Factuurnummer is ``invoice_number``."""
    wanted = invoice_number.strip().casefold()
    return [
        _booked_mutation(item)
        for item in _items(result.get("Mutaties"), "cMutatieList")
        if (item.get("Factuurnummer") or "").strip().casefold() == wanted
    ]


def relation_by_code(result: dict[str, Any], code: str) -> ExistingRelation | None:
    """The first of GetRelaties' relations whose Code is ``code``."""
    wanted = code.strip().casefold()
    for item in _items(result.get("Relaties"), "cRelatie"):
        if (item.get("Code") or "").strip().casefold() == wanted:
            return _existing_relation(item)
    return None


def relations_by_email(result: dict[str, Any], email: str) -> list[ExistingRelation]:
    """GetRelaties' relations whose Email is ``email``."""
    wanted = email.strip().casefold()
    return [
        _existing_relation(item)
        for item in _items(result.get("Relaties"), "cRelatie")
        if (item.get("Email") or "").strip().casefold() == wanted
    ]


def number(result: dict[str, Any], field: str, operation: str) -> int:
    """A required id from a successful result; 0 or missing means the outcome is
    unknown (transient: the caller reconciles before retrying)."""
    value = result.get(field)
    if not value:
        raise UpstreamUnavailableError(
            f"e-Boekhouden {operation} returned no {field}",
            system=errs.SYSTEM,
            operation=operation,
            code="no_number",
            explanation=errs.NO_NUMBER.format(operation=errs.action(operation)),
        )
    return int(value)


def ledger_accounts(result: dict[str, Any]) -> list[LedgerAccount]:
    return [
        LedgerAccount(
            id=int(item.get("ID") or 0),
            code=item.get("Code") or "",
            description=item.get("Omschrijving") or "",
            category=item.get("Categorie") or "",
        )
        for item in _items(result.get("Rekeningen"), "cGrootboekrekening")
    ]


def administrations(result: dict[str, Any]) -> list[Administration]:
    return [
        Administration(
            name=item.get("Bedrijf") or "",
            city=item.get("Plaats") or "",
            guid=item.get("Guid") or "",
        )
        for item in _items(result.get("Administraties"), "cAdministratie")
    ]


def _as_datetime(value: dt.date) -> dt.datetime:
    """xsd:dateTime wants a time part; the server reads midnight as 'that day'."""
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime(value.year, value.month, value.day)


def _items(array: Any, name: str) -> list[dict[str, Any]]:
    """The items of a serialized ``ArrayOfX`` (``None`` when the element is empty)."""
    if not array:
        return []
    return [item for item in (array.get(name) or []) if item]


def _booked_mutation(item: dict[str, Any]) -> BookedMutation:
    date = item.get("Datum")
    if isinstance(date, dt.datetime):
        date = date.date()
    rows = _items(item.get("MutatieRegels"), "cMutatieListRegel")
    lines = tuple(
        BookRow(
            (row.get("TegenrekeningCode") or "").strip(),
            (row.get("BTWCode") or "").strip(),
            Decimal(row.get("BedragExclBTW") or 0),
            Decimal(row.get("BedragBTW") or 0),
            Decimal(row.get("BedragInclBTW") or 0),
        )
        for row in rows
    )
    return BookedMutation(
        number=int(item.get("MutatieNr") or 0),
        soort=str(item.get("Soort") or ""),
        date=date,
        invoice_number=item.get("Factuurnummer") or "",
        total=sum((Decimal(row.get("BedragInclBTW") or 0) for row in rows), Decimal("0")),
        relation_code=(item.get("RelatieCode") or "").strip(),
        ledger=str(item.get("Rekening") or "").strip(),
        rows=tuple(
            (
                (row.get("TegenrekeningCode") or "").strip(),
                (row.get("BTWCode") or "").strip(),
                Decimal(row.get("BedragInclBTW") or 0),
            )
            for row in rows
        ),
        lines=lines,
    )


def _existing_relation(item: dict[str, Any]) -> ExistingRelation:
    return ExistingRelation(
        id=int(item.get("ID") or 0),
        code=item.get("Code") or "",
        name=item.get("Bedrijf") or "",
        email=item.get("Email") or "",
        vat_number=(item.get("BTWNummer") or "").strip(),
        fields=dict(item),
    )
