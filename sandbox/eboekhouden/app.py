"""The e-Boekhouden SOAP simulator as a WSGI app.

SOAP surface (what the connector's real client talks to):
- ``GET /soap.asmx?WSDL``: the service's WSDL, ``soap:address`` pointing here.
- ``POST /soap.asmx``: SOAP 1.1; operation from the ``SOAPAction`` header (else the body
  element). Every request is validated against the WSDL schema (``soap:Client`` fault,
  HTTP 500, when invalid); business errors come back in ``ErrorMsg`` with HTTP 200.

Control surface (tests in other processes, chaos runs, the sandbox), under ``/_sandbox/``:
``GET state``, ``POST faults`` (body for ``Faults.configure``), ``POST administrations``
``{username, code1, code2[, name]}``, ``POST relations`` ``{username, relations: [{code,
name, email, bp}]}`` (seeded as AddRelatie would store them), ``POST reset``,
``POST clock {"advance": seconds}``, ``POST sessions/expire {"username"?}``; by hand (what
a person does in e-Boekhouden's screens): ``POST mutations/delete {username, number}``,
``POST mutations/change {username, number, row?, incl?, btw_code?, ledger?, date?}``.

Faults (``sandbox.faults``) are taken once per SOAP request, after the operation is known:
``latency`` (sleep ``seconds``, then answer), ``http_status`` (``status``, default 503, an
IIS-style HTML page; ``retry_after``), ``timeout`` (sleep ``seconds``, default 30, then
process the call normally: a slow server), ``drop`` (close the connection unprocessed),
``commit_then_drop`` (process, then close without answering), ``soap_fault`` (HTTP 500
Fault, ``code`` Server unless given, ``message``), ``session_expired`` (the session dies
and the call gets the session error), ``auth`` (the login/security-code error).

Counting: ``calls`` counts every SOAP request by operation as it arrives (faulted ones
too); ``admin_calls(username)`` counts the calls processed for that administration.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.eboekhouden import soap
from sandbox.eboekhouden.operations import HANDLERS, error_result, handle
from sandbox.eboekhouden.state import (
    DEFAULT_SESSION_LIFETIME,
    GET_MUTATIES_CAP,
    LOGIN_INVALID,
    SECURITYCODE2_INVALID,
    SESSION_INVALID,
    Bookkeeping,
    BusinessError,
)
from sandbox.faults import Fault, Faults, drop_connection

SOAP_PATH = "/soap.asmx"
CONTROL_PREFIX = "/_sandbox/"
XML = "text/xml; charset=utf-8"

_IIS_PAGE = """<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">
<HTML><HEAD><TITLE>{reason}</TITLE>
<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>
<BODY><h2>{reason}</h2>
<hr><p>HTTP Error {status}. {text}</p>
</BODY></HTML>
"""
_REASONS = {
    429: ("Too Many Requests", "The client has sent too many requests."),
    500: ("Internal Server Error", "The server encountered an internal error."),
    502: ("Bad Gateway", "The gateway received an invalid response."),
    503: ("Service Unavailable", "The service is unavailable."),
    504: ("Gateway Timeout", "The gateway timed out."),
}


class EBoekhoudenSimulator:
    """A faithful-enough e-Boekhouden SOAP service; the object is a WSGI callable."""

    def __init__(
        self,
        faults: Faults | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        session_lifetime: float = DEFAULT_SESSION_LIFETIME,
        get_mutaties_cap: int = GET_MUTATIES_CAP,
        validate_responses: bool = True,
    ) -> None:
        self.faults = faults if faults is not None else Faults()
        self.get_mutaties_cap = get_mutaties_cap
        self.validate_responses = validate_responses  # a sim bug then fails loudly
        self.calls: Counter[str] = Counter()
        self.wsdl_requests = 0
        self._clock = clock
        self._offset = 0.0
        self._lock = threading.RLock()
        self.books = Bookkeeping(self.now, session_lifetime)
        soap.schema()  # parsed now, not inside the first request (and its client's timeout)

    # -- test API ----------------------------------------------------------------------

    def now(self) -> float:
        return self._clock() + self._offset

    def advance_clock(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def add_administration(
        self, username: str, code1: str, code2: str, *, name: str = "", city: str = ""
    ) -> None:
        with self._lock:
            self.books.add_administration(username, code1, code2, name=name, city=city)

    def add_ledger(
        self, username: str, code: str, description: str, category: str = "VW", group: str = ""
    ) -> None:
        with self._lock:
            self.books.admin(username).add_ledger(code, description, category, group)

    def add_relation(
        self, username: str, code: str, name: str = "", *, email: str = "", bp: str = "B"
    ) -> int:
        """Seed a relation (same rules as AddRelatie); returns its ID."""
        rel = soap.empty_record("cRelatie")
        rel.update({"ID": 0, "AddDatum": dt.datetime(2024, 1, 1), "Code": code,
                    "Bedrijf": name or code, "Email": email, "BP": bp,
                    "Gb_ID": 0, "GeenEmail": 0, "NieuwsbriefgroepenCount": 0})  # fmt: skip
        with self._lock:
            return self.books.add_relatie(self.books.admin(username), rel)

    def book(self, username: str, mutation: dict[str, Any]) -> int:
        """Seed a mutation (``cMutatie`` field names; same rules as AddMutatie)."""
        mut = {**soap.empty_record("cMutatie"), "MutatieNr": 0, "InExBTW": "IN", **mutation}
        if not isinstance(mut["Datum"], dt.datetime):
            mut["Datum"] = dt.datetime.combine(mut["Datum"], dt.time())
        with self._lock:
            return self.books.add_mutatie(self.books.admin(username), mut)

    def mutations(self, username: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self.books.admin(username).mutations)

    def delete_mutation(self, username: str, number: int) -> None:
        """A person deletes mutation ``number`` in e-Boekhouden's own screens."""
        with self._lock:
            self.books.delete_mutation(self.books.admin(username), number)

    def change_mutation(self, username: str, number: int, **changes: Any) -> dict[str, Any]:
        """A person changes a row of mutation ``number`` by hand (``Bookkeeping.
        change_mutation``: ``row``, ``incl``, ``btw_code``, ``ledger``, ``date``)."""
        with self._lock:
            return self.books.change_mutation(self.books.admin(username), number, **changes)

    def relations(self, username: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self.books.admin(username).relations)

    def admin_calls(self, username: str) -> Counter[str]:
        with self._lock:
            return Counter(self.books.admin(username).calls)

    def sources(self, username: str) -> Counter[str]:
        """The ``Source`` values OpenSession was called with."""
        with self._lock:
            return Counter(self.books.admin(username).sources)

    def expire_sessions(self, username: str | None = None) -> int:
        with self._lock:
            return self.books.expire_sessions(username)

    def reset(self) -> None:
        """Empty books, no sessions, zero counters, no faults; administrations stay."""
        with self._lock:
            self.books.reset()
            self.calls.clear()
            self.wsdl_requests = 0
            self._offset = 0.0
        self.faults.clear()

    def state(self) -> dict[str, Any]:
        with self._lock:
            admins = {
                a.username: {
                    "name": a.name,
                    "guid": a.guid,
                    "calls": dict(a.calls),
                    "sources": dict(a.sources),
                    "mutations": a.mutations,
                    "relations": a.relations,
                }
                for a in self.books.administrations.values()
            }
            return _jsonable(
                {
                    "calls": dict(self.calls),
                    "wsdl_requests": self.wsdl_requests,
                    "open_sessions": len(self.books.sessions),
                    "faults": self.faults.snapshot(),
                    "administrations": admins,
                }
            )

    # -- WSGI --------------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        return self.wsgi_app(environ, start_response)

    def wsgi_app(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith(CONTROL_PREFIX):
            response = self._control(request)
        elif request.path.rstrip("/").lower() != SOAP_PATH:
            response = Response("Not Found", 404)
        elif request.method == "GET":
            response = self._get(request)
        elif request.method == "POST":
            response = self._soap(request)
        else:
            response = Response("Method Not Allowed", 405)
        return response(environ, start_response)

    def _get(self, request: Request) -> Response:
        if not any(key.lower() == "wsdl" for key in request.args):
            return Response("<html><body>e-Boekhouden simulator</body></html>", 200,
                            content_type="text/html")  # fmt: skip
        with self._lock:
            self.wsdl_requests += 1
        address = request.host_url.rstrip("/") + SOAP_PATH
        return Response(soap.wsdl_for(address), 200, content_type=XML)

    def _soap(self, request: Request) -> Response:
        try:
            operation, element = soap.parse_request(
                request.get_data(), request.headers.get("SOAPAction")
            )
        except soap.SoapFault as fault:
            return _fault(fault)
        with self._lock:
            self.calls[operation] += 1
        if self.faults.latency:
            time.sleep(self.faults.latency)
        fault = self.faults.take(operation)
        if fault is not None:
            early = self._apply_early(fault, request.environ)
            if early is not None:
                return early
        try:
            soap.validate_request(element)
            data = soap.decode(element)
        except soap.SoapFault as invalid:
            return _fault(invalid)
        if operation not in HANDLERS:
            return _fault(soap.SoapFault(f"{operation} is not supported by the simulator."))
        with self._lock:
            result = self._process(operation, data, fault)
        body = soap.response_envelope(operation, result, validate=self.validate_responses)
        if fault is not None and fault.kind == "commit_then_drop":
            _drop(request.environ)
        return Response(body, 200, content_type=XML)

    def _apply_early(self, fault: Fault, environ: dict[str, Any]) -> Response | None:
        """Faults that act before (or instead of) processing; None means go on."""
        params = fault.params
        if fault.kind in ("latency", "timeout"):
            time.sleep(float(params.get("seconds", 0.5 if fault.kind == "latency" else 30)))
        elif fault.kind == "http_status":
            status = int(params.get("status", 503))
            reason, text = _REASONS.get(status, ("Error", "The request failed."))
            headers = {"Retry-After": str(params["retry_after"])} if "retry_after" in params else {}
            page = _IIS_PAGE.format(reason=reason, status=status, text=text)
            return Response(page, status, headers=headers, content_type="text/html")
        elif fault.kind == "drop":
            _drop(environ)
        elif fault.kind == "soap_fault":
            message = params.get(
                "message", "Server was unable to process request. ---> Simulated failure."
            )
            return _fault(soap.SoapFault(message, params.get("code", "Server")))
        return None

    def _process(self, operation: str, data: dict[str, Any], fault: Fault | None) -> Any:
        kind = fault.kind if fault is not None else None
        if kind == "session_expired":
            self.books.sessions.pop(data.get("SessionID") or "", None)
            if operation == "OpenSession":
                return error_result(
                    operation, BusinessError(SESSION_INVALID, "Sessie is verlopen.")
                )
        elif kind == "auth":
            code = LOGIN_INVALID if operation == "OpenSession" else SECURITYCODE2_INVALID
            return error_result(operation, BusinessError(code, "Toegang ingetrokken."))
        return handle(operation, self.books, data, self.get_mutaties_cap)

    # -- control -----------------------------------------------------------------------

    def _control(self, request: Request) -> Response:
        name = request.path[len(CONTROL_PREFIX) :].strip("/")
        if name == "state" and request.method == "GET":
            return _json(self.state())
        if request.method != "POST":
            return _json({"error": "not found"}, 404)
        try:
            body = json.loads(request.get_data() or b"{}")
            if name == "faults":
                self.faults.configure(body)
                return _json(self.faults.snapshot())
            if name == "administrations":
                self.add_administration(
                    body["username"], body["code1"], body["code2"], name=body.get("name", "")
                )
                return _json({"username": body["username"]}, 201)
            if name == "relations":  # seed relations: {username, relations: [{code, …}]}
                ids = [
                    self.add_relation(
                        body["username"],
                        r["code"],
                        r.get("name", ""),
                        email=r.get("email", ""),
                        bp=r.get("bp", "B"),
                    )
                    for r in body["relations"]
                ]
                return _json({"ids": ids}, 201)
            if name == "reset":
                self.reset()
                return _json({"reset": True})
            if name == "clock":
                self.advance_clock(float(body.get("advance", 0)))
                return _json({"now": self.now()})
            if name == "sessions/expire":
                return _json({"expired": self.expire_sessions(body.get("username"))})
            if name == "mutations/delete":  # {username, number}: deleted by hand
                self.delete_mutation(body["username"], int(body["number"]))
                return _json({"deleted": int(body["number"])})
            if name == "mutations/change":  # {username, number, row?, incl?, btw_code?, …}
                changes = _by_hand(body)
                changed = self.change_mutation(body["username"], int(body["number"]), **changes)
                return _json(_jsonable(changed))
        except (ValueError, KeyError, TypeError) as exc:
            return _json({"error": f"bad request: {exc}"}, 400)
        except BusinessError as exc:  # a seeded relation that exists already
            return _json({"error": str(exc)}, 409)
        return _json({"error": "not found"}, 404)


def _by_hand(body: dict[str, Any]) -> dict[str, Any]:
    """The changes of a ``mutations/change`` control request, typed."""
    changes: dict[str, Any] = {"row": int(body.get("row", 0))}
    if body.get("incl") is not None:
        changes["incl"] = Decimal(str(body["incl"]))
    for key in ("btw_code", "ledger"):
        if body.get(key) is not None:
            changes[key] = str(body[key])
    if body.get("date"):
        changes["date"] = dt.date.fromisoformat(body["date"])
    return changes


def _fault(fault: soap.SoapFault) -> Response:
    return Response(soap.fault_envelope(fault.message, fault.code), 500, content_type=XML)


def _drop(environ: dict[str, Any]) -> None:
    """Close the connection; werkzeug treats the ConnectionError as a client hang-up."""
    drop_connection(environ)
    raise ConnectionAbortedError("simulated dropped connection")


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status, content_type="application/json")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
