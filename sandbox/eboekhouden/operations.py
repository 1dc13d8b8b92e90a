"""One handler per supported SOAP operation: decoded request dict → ``<Op>Result`` dict.

Business errors become the result's ``ErrorMsg`` (HTTP 200) with the value fields the
WSDL marks required (``Mutatienummer``/``Rel_ID`` = 0), as the ASMX service shapes them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.eboekhouden.state import FIELD_REQUIRED, Bookkeeping, BusinessError

Result = dict[str, Any] | None
Handler = Callable[[Bookkeeping, dict[str, Any], int], Result]

NO_ERROR = {"LastErrorCode": "", "LastErrorDescription": ""}

# What each result carries besides ErrorMsg when the call failed.
_ERROR_FIELDS: dict[str, dict[str, Any]] = {
    "AddMutatie": {"Mutatienummer": 0},
    "AddRelatie": {"Rel_ID": 0},
}


def error_result(operation: str, error: BusinessError) -> Result:
    if operation == "CloseSession":  # its response has no result element at all
        return None
    if operation == "UpdateRelatie":  # its result *is* a cError
        return {"LastErrorCode": error.code, "LastErrorDescription": error.description}
    return {
        "ErrorMsg": {"LastErrorCode": error.code, "LastErrorDescription": error.description},
        **_ERROR_FIELDS.get(operation, {}),
    }


def handle(operation: str, books: Bookkeeping, request: dict[str, Any], cap: int) -> Result:
    try:
        return HANDLERS[operation](books, request, cap)
    except BusinessError as error:
        return error_result(operation, error)


def _open_session(books: Bookkeeping, req: dict[str, Any], cap: int) -> Result:
    session_id = books.open_session(
        req["Username"], req["SecurityCode1"], req["SecurityCode2"], req["Source"]
    )
    return {"ErrorMsg": NO_ERROR, "SessionID": session_id}


def _close_session(books: Bookkeeping, req: dict[str, Any], cap: int) -> Result:
    books.close_session(req["SessionID"])
    return None


def _add_mutatie(books: Bookkeeping, req: dict[str, Any], cap: int) -> Result:
    admin = books.resolve(req["SessionID"], req["SecurityCode2"], "AddMutatie")
    return {"ErrorMsg": NO_ERROR, "Mutatienummer": books.add_mutatie(admin, req["oMut"])}


def _get_mutaties(books: Bookkeeping, req: dict[str, Any], cap: int) -> Result:
    admin = books.resolve(req["SessionID"], req["SecurityCode2"], "GetMutaties")
    flt = req["cFilter"]
    if flt is None:
        raise BusinessError(FIELD_REQUIRED, "Veld 'cFilter' is verplicht.")
    return {"ErrorMsg": NO_ERROR, "Mutaties": books.get_mutaties(admin, flt, cap)}


def _add_relatie(books: Bookkeeping, req: dict[str, Any], cap: int) -> Result:
    admin = books.resolve(req["SessionID"], req["SecurityCode2"], "AddRelatie")
    return {"ErrorMsg": NO_ERROR, "Rel_ID": books.add_relatie(admin, req["oRel"])}


def _update_relatie(books: Bookkeeping, req: dict[str, Any], cap: int) -> Result:
    admin = books.resolve(req["SessionID"], req["SecurityCode2"], "UpdateRelatie")
    books.update_relatie(admin, req["oRel"])
    return dict(NO_ERROR)


def _get_relaties(books: Bookkeeping, req: dict[str, Any], cap: int) -> Result:
    admin = books.resolve(req["SessionID"], req["SecurityCode2"], "GetRelaties")
    flt = req["cFilter"] or {"ID": 0}
    return {"ErrorMsg": NO_ERROR, "Relaties": books.get_relaties(admin, flt)}


def _get_grootboekrekeningen(books: Bookkeeping, req: dict[str, Any], cap: int) -> Result:
    admin = books.resolve(req["SessionID"], req["SecurityCode2"], "GetGrootboekrekeningen")
    flt = req["cFilter"] or {"ID": 0}
    return {"ErrorMsg": NO_ERROR, "Rekeningen": books.get_grootboekrekeningen(admin, flt)}


def _get_administraties(books: Bookkeeping, req: dict[str, Any], cap: int) -> Result:
    admin = books.resolve(req["SessionID"], req["SecurityCode2"], "GetAdministraties")
    return {"ErrorMsg": NO_ERROR, "Administraties": books.get_administraties(admin)}


HANDLERS: dict[str, Handler] = {
    "OpenSession": _open_session,
    "CloseSession": _close_session,
    "AddMutatie": _add_mutatie,
    "GetMutaties": _get_mutaties,
    "AddRelatie": _add_relatie,
    "UpdateRelatie": _update_relatie,
    "GetRelaties": _get_relaties,
    "GetGrootboekrekeningen": _get_grootboekrekeningen,
    "GetAdministraties": _get_administraties,
}
