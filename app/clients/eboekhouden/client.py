"""e-Boekhouden.nl SOAP client: the real ``BookkeepingApi``.

- The WSDL is package data (``eboekhouden.wsdl``), parsed once per process and never
  fetched from the network; each client binds its own address and credentials.
- One session per client instance, opened lazily, shared by threads, reopened once when a
  call fails with a session error (that call is then retried once), closed by ``close()``.
- Every ``ErrorMsg`` is checked; failures become the typed errors of ``app.errors``
  (table: ``eboekhouden_errors``). Transient: ``UpstreamUnavailableError`` and its
  subclasses. Permanent: ``UpstreamRejectedError`` and its subclasses.
- Security codes and the session id never reach exception texts, logs or ``repr()``:
  zeep's own DEBUG logging of envelopes is bypassed (see ``_Transport.post``).
- zeep stays inside this module: methods take and return ``app.core.mutations`` types.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import requests
import zeep
import zeep.exceptions
import zeep.helpers
from requests.adapters import HTTPAdapter, Retry
from zeep.wsdl import Document

from app.clients.eboekhouden import errors as errs
from app.core.mutations import (
    Administration,
    BookedMutation,
    ExistingRelation,
    LedgerAccount,
    Mutation,
    Relation,
)
from app.errors import (
    RateLimitedError,
    SessionExpiredError,
    UpstreamError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)

log = logging.getLogger(__name__)

DEFAULT_URL = "https://soap.e-boekhouden.nl/soap.asmx"
DEFAULT_SOURCE = "MWWConnect"
WSDL_PATH = Path(__file__).with_name("eboekhouden.wsdl")
BINDING = "{http://www.e-boekhouden.nl/soap}soapAppSoap"
SYSTEM = errs.SYSTEM

# GetMutaties requires DatumVan/DatumTm. The range is our assumption: wide enough for any
# webshop order, inside the 1980-2049 window that other clients validate against.
SEARCH_FROM = dt.datetime(1980, 1, 1)
SEARCH_TO = dt.datetime(2049, 12, 31)

Metrics = Callable[[str, str, float], None]

# A wrong EBOEKHOUDEN_SOAP_URL setting: permanent, not worth retrying.
_BAD_URL = (
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidURL,
)
_SETTINGS = zeep.Settings(strict=True, xml_huge_tree=False, forbid_entities=True)


class _HttpStatusError(Exception):
    """A non-SOAP HTTP answer (raised from inside zeep's call, caught in ``_send``)."""

    def __init__(self, status: int, retry_after: str | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class _Transport(zeep.Transport):
    """zeep's Transport, minus its DEBUG log of every envelope (which would carry the
    security codes and session id), with a (connect, read) timeout, no redirects (requests
    would turn a redirected POST into a GET) and HTTP status checks: only 200 and a 500
    carrying a SOAP envelope (a Fault) go on to zeep."""

    def post(self, address: str, message: Any, headers: dict[str, str]) -> requests.Response:
        response = self.session.post(
            address,
            data=message,
            headers=headers,
            timeout=(self.load_timeout, self.operation_timeout),
            allow_redirects=False,
        )
        if response.status_code == 200:
            return response
        if response.status_code == 500 and b"Envelope" in response.content[:2000]:
            return response
        raise _HttpStatusError(response.status_code, response.headers.get("Retry-After"))


_http_lock = threading.Lock()
_http: tuple[int, requests.Session] | None = None


def _http_session() -> requests.Session:
    """One requests.Session per process (recreated after a fork). Only connection
    *establishment* is retried: a request that may have reached the server never is."""
    global _http
    with _http_lock:
        if _http is None or _http[0] != os.getpid():
            session = requests.Session()
            retry = Retry(
                total=2, connect=2, read=0, status=0, other=0, redirect=0, backoff_factor=0.1
            )
            adapter = HTTPAdapter(max_retries=retry)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            _http = (os.getpid(), session)
        return _http[1]


@functools.cache
def _wsdl_document() -> Document:
    """The parsed WSDL, shared by all clients of this process (read from the local file)."""
    transport = zeep.Transport(session=_http_session())
    return Document(str(WSDL_PATH), transport, settings=_SETTINGS)  # type: ignore[arg-type]


class _Secret:
    """A value that never shows itself in repr(), str() or tracebacks with locals."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__


class SessionStore(Protocol):
    """Where a session id is shared between processes (``app.fastpaths``)."""

    def get(self) -> str | None: ...

    def put(self, session_id: str) -> None: ...

    def discard(self, session_id: str) -> None: ...


class EBoekhoudenClient:
    """One e-Boekhouden administration over SOAP (implements ``BookkeepingApi``)."""

    def __init__(
        self,
        username: str,
        security_code1: str,
        security_code2: str,
        *,
        url: str = DEFAULT_URL,
        source: str = DEFAULT_SOURCE,
        timeout: float = 10.0,
        operation_timeout: float = 30.0,
        metrics: Metrics | None = None,
        session_store: SessionStore | None = None,
    ) -> None:
        """``timeout`` is the connect timeout, ``operation_timeout`` the read timeout of
        each call. ``metrics(operation, outcome, seconds)`` is called after every SOAP
        call; ``outcome`` is "ok" or the exception class name. ``session_store`` shares
        the session between processes (RQ forks a process per job), so a fleet of
        workers opens one session per administration instead of one per booking."""
        self.username = username
        self.url = url
        self.source = source
        self._code1 = _Secret(security_code1)
        self._code2 = _Secret(security_code2)
        self._metrics = metrics
        self._lock = threading.Lock()
        self._session_id: _Secret | None = None
        self._store = session_store
        transport = _Transport(
            session=_http_session(), timeout=timeout, operation_timeout=operation_timeout
        )
        client = zeep.Client(_wsdl_document(), transport=transport, settings=_SETTINGS)
        self._service = client.create_service(BINDING, url)

    def __repr__(self) -> str:
        state = "open" if self._session_id is not None else "closed"
        return f"EBoekhoudenClient(username={self.username!r}, url={self.url!r}, session={state})"

    def __enter__(self) -> EBoekhoudenClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- BookkeepingApi --------------------------------------------------------------

    def verify(self) -> None:
        """Open a session now; raises BookkeepingAuthError on bad credentials."""
        self._session()

    def add_mutation(self, mutation: Mutation) -> int:
        """AddMutatie; returns the Mutatienummer."""
        wire = mutation.to_wire()
        wire["Datum"] = _as_datetime(mutation.date)
        wire["MutatieRegels"] = {"cMutatieRegel": wire["MutatieRegels"]}
        context = {
            "invoice_number": mutation.invoice_number,
            "relation_code": mutation.relation_code,
        }
        result = self._call("AddMutatie", context, oMut=wire)
        return self._number(result, "Mutatienummer", "AddMutatie")

    def find_mutations(self, invoice_number: str) -> list[BookedMutation]:
        """GetMutaties filtered by Factuurnummer (exact, case-insensitive)."""
        if not invoice_number.strip():
            raise ValueError("find_mutations needs an invoice number")
        cfilter = {
            "MutatieNr": 0,
            "Factuurnummer": invoice_number,
            "DatumVan": SEARCH_FROM,
            "DatumTm": SEARCH_TO,
        }
        result = self._call("GetMutaties", None, cFilter=cfilter)
        wanted = invoice_number.strip().casefold()
        return [
            _booked_mutation(item)
            for item in _items(result.get("Mutaties"), "cMutatieList")
            if (item.get("Factuurnummer") or "").strip().casefold() == wanted
        ]

    def find_relation(self, code: str) -> ExistingRelation | None:
        result = self._call("GetRelaties", None, cFilter={"Code": code, "ID": 0})
        wanted = code.strip().casefold()
        for item in _items(result.get("Relaties"), "cRelatie"):
            if (item.get("Code") or "").strip().casefold() == wanted:
                return _existing_relation(item)
        return None

    def find_relations_by_email(self, email: str) -> list[ExistingRelation]:
        result = self._call("GetRelaties", None, cFilter={"Trefwoord": email, "ID": 0})
        wanted = email.strip().casefold()
        return [
            _existing_relation(item)
            for item in _items(result.get("Relaties"), "cRelatie")
            if (item.get("Email") or "").strip().casefold() == wanted
        ]

    def add_relation(self, relation: Relation) -> int:
        """AddRelatie; returns Rel_ID."""
        today = dt.date.today()
        wire = relation.to_wire(today)
        wire["AddDatum"] = _as_datetime(today)
        result = self._call("AddRelatie", {"relation_code": relation.code}, oRel=wire)
        return self._number(result, "Rel_ID", "AddRelatie")

    def ledger_accounts(self) -> list[LedgerAccount]:
        result = self._call("GetGrootboekrekeningen", None, cFilter={"ID": 0})
        return [
            LedgerAccount(
                id=int(item.get("ID") or 0),
                code=item.get("Code") or "",
                description=item.get("Omschrijving") or "",
                category=item.get("Categorie") or "",
            )
            for item in _items(result.get("Rekeningen"), "cGrootboekrekening")
        ]

    def administrations(self) -> list[Administration]:
        result = self._call("GetAdministraties", None)
        return [
            Administration(
                name=item.get("Bedrijf") or "",
                city=item.get("Plaats") or "",
                guid=item.get("Guid") or "",
            )
            for item in _items(result.get("Administraties"), "cAdministratie")
        ]

    def close(self) -> None:
        """CloseSession if a session is open. Never raises."""
        with self._lock:
            session_id, self._session_id = self._session_id, None
        if session_id is None:
            return
        if self._store is not None:  # other processes reopen once if they still use it
            self._store.discard(session_id.value)
        try:
            self._invoke("CloseSession", None, SessionID=session_id.value)
        except Exception as exc:  # closing is best effort: the session expires anyway
            log.warning("e-Boekhouden CloseSession failed (ignored): %s", type(exc).__name__)

    # -- sessions --------------------------------------------------------------------

    def _session(self) -> _Secret:
        with self._lock:
            if self._session_id is None and self._store is not None:
                shared = self._store.get()
                self._session_id = _Secret(shared) if shared else None
            if self._session_id is None:
                self._session_id = self._open_session()
                if self._store is not None:
                    self._store.put(self._session_id.value)
            return self._session_id

    def _reopen(self, stale: _Secret) -> _Secret:
        """A new session, unless another thread already replaced the stale one."""
        with self._lock:
            if self._session_id is None or self._session_id is stale:
                if self._store is not None:
                    self._store.discard(stale.value)
                self._session_id = None
                self._session_id = self._open_session()
                if self._store is not None:
                    self._store.put(self._session_id.value)
            return self._session_id

    def _open_session(self) -> _Secret:
        result = self._invoke(
            "OpenSession",
            None,
            Username=self.username,
            SecurityCode1=self._code1.value,
            SecurityCode2=self._code2.value,
            Source=self.source,
        )
        session_id = result.get("SessionID")
        if not session_id:
            raise UpstreamUnavailableError(
                "e-Boekhouden OpenSession returned no SessionID",
                system=SYSTEM,
                operation="OpenSession",
                code="no_session",
                explanation=errs.BAD_RESPONSE,
            )
        log.debug("e-Boekhouden session opened for %s", self.username)
        return _Secret(session_id)

    def _call(
        self, operation: str, context: Mapping[str, str] | None, **params: Any
    ) -> dict[str, Any]:
        """A data call in the current session; on a session error reopen and retry once
        (safe: a session error means the call was not processed)."""
        session_id = self._session()
        try:
            return self._data_call(operation, session_id, context, params)
        except SessionExpiredError:
            log.info("e-Boekhouden session expired during %s; reopening once", operation)
            session_id = self._reopen(session_id)
            return self._data_call(operation, session_id, context, params)

    def _data_call(
        self,
        operation: str,
        session_id: _Secret,
        context: Mapping[str, str] | None,
        params: dict[str, Any],
    ) -> dict[str, Any]:
        return self._invoke(
            operation,
            context,
            SessionID=session_id.value,
            SecurityCode2=self._code2.value,
            **params,
        )

    # -- one SOAP call ---------------------------------------------------------------

    def _invoke(
        self, operation: str, context: Mapping[str, str] | None, **kwargs: Any
    ) -> dict[str, Any]:
        """Send, check ErrorMsg, report metrics. Raises only ``UpstreamError``s."""
        started = time.monotonic()
        outcome = "ok"
        try:
            result = self._send(operation, kwargs)
            self._check(operation, result, context)
            return result
        except Exception as exc:
            outcome = type(exc).__name__
            raise
        finally:
            self._observe(operation, outcome, time.monotonic() - started)

    def _send(self, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        def error(cls: type[UpstreamError], what: str, code: str, explanation: str) -> Any:
            return cls(f"e-Boekhouden {operation}: {what}", system=SYSTEM,
                       operation=operation, code=code, explanation=explanation)

        try:
            raw = getattr(self._service, operation)(**kwargs)
        except zeep.exceptions.Fault as exc:
            raise self._fault(operation, exc) from None
        except _HttpStatusError as exc:
            raise self._http_status(operation, exc) from None
        except requests.Timeout as exc:
            raise error(UpstreamUnavailableError, "timeout", "timeout", errs.TIMEOUT) from exc
        except _BAD_URL as exc:
            raise error(UpstreamRejectedError, f"invalid service URL ({type(exc).__name__})",
                        "bad_url", errs.BAD_URL) from exc
        except requests.RequestException as exc:
            raise error(UpstreamUnavailableError, f"connection failed ({type(exc).__name__})",
                        "connection", errs.CONNECTION) from exc
        except zeep.exceptions.ValidationError as exc:
            text = self._redact(str(exc))
            raise error(UpstreamRejectedError, f"request does not match the WSDL: {text}",
                        "invalid_request",
                        errs.INVALID_REQUEST.format(description=text)) from None
        except zeep.exceptions.Error as exc:  # unparseable or unexpected XML
            raise error(UpstreamUnavailableError,
                        f"unreadable response ({type(exc).__name__})", "bad_response",
                        errs.BAD_RESPONSE) from None
        return zeep.helpers.serialize_object(raw, target_cls=dict) or {}

    def _check(
        self, operation: str, result: dict[str, Any], context: Mapping[str, str] | None
    ) -> None:
        error = result.get("ErrorMsg") or {}
        code = (error.get("LastErrorCode") or "").strip()
        description = (error.get("LastErrorDescription") or "").strip()
        if code or description:
            raise errs.error_for(
                self._redact(code),
                self._redact(description),
                operation=operation,
                context=context,
            )

    def _fault(self, operation: str, exc: zeep.exceptions.Fault) -> UpstreamError:
        faultcode = (exc.code or "").rsplit(":", 1)[-1]
        text = self._redact(str(exc.message or ""))[:300]
        message = f"e-Boekhouden {operation}: SOAP fault {exc.code or '-'}: {text}"
        if faultcode in ("Client", "Sender", "VersionMismatch", "MustUnderstand"):
            return UpstreamRejectedError(
                message,
                system=SYSTEM,
                operation=operation,
                code=f"soap:{faultcode}",
                explanation=errs.CLIENT_FAULT.format(description=text),
            )
        return UpstreamUnavailableError(
            message,
            system=SYSTEM,
            operation=operation,
            code=f"soap:{faultcode or 'Server'}",
            explanation=errs.SERVER_FAULT.format(description=text),
        )

    def _http_status(self, operation: str, exc: _HttpStatusError) -> UpstreamError:
        message = f"e-Boekhouden {operation}: HTTP {exc.status}"
        code = f"http_{exc.status}"
        if exc.status == 429:
            return RateLimitedError(
                message,
                retry_after=_seconds(exc.retry_after),
                system=SYSTEM,
                operation=operation,
                code=code,
                explanation=errs.RATE_LIMITED,
            )
        if exc.status >= 500 or exc.status == 408:
            return UpstreamUnavailableError(
                message,
                system=SYSTEM,
                operation=operation,
                code=code,
                explanation=errs.UNAVAILABLE.format(status=exc.status),
            )
        return UpstreamRejectedError(
            message,
            system=SYSTEM,
            operation=operation,
            code=code,
            explanation=errs.HTTP_REJECTED.format(status=exc.status),
        )

    def _number(self, result: dict[str, Any], field: str, operation: str) -> int:
        """A required id from a successful result; 0 or missing means the outcome is
        unknown (transient: the caller reconciles before retrying)."""
        value = result.get(field)
        if not value:
            raise UpstreamUnavailableError(
                f"e-Boekhouden {operation} returned no {field}",
                system=SYSTEM,
                operation=operation,
                code="no_number",
                explanation=errs.NO_NUMBER.format(operation=operation),
            )
        return int(value)

    def _redact(self, text: str) -> str:
        secrets = [self._code1.value, self._code2.value]
        if self._session_id is not None:
            secrets.append(self._session_id.value)
        for secret in secrets:
            if secret and len(secret) >= 4:
                text = text.replace(secret, "***")
        return text

    def _observe(self, operation: str, outcome: str, seconds: float) -> None:
        log.debug("e-Boekhouden %s: %s in %.3fs", operation, outcome, seconds)
        if self._metrics is None:
            return
        try:
            self._metrics(operation, outcome, seconds)
        except Exception:  # a broken metrics hook must not break bookings
            log.exception("metrics callback failed for %s", operation)


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
    return BookedMutation(
        number=int(item.get("MutatieNr") or 0),
        soort=str(item.get("Soort") or ""),
        date=date,
        invoice_number=item.get("Factuurnummer") or "",
        total=sum((Decimal(row.get("BedragInclBTW") or 0) for row in rows), Decimal("0")),
    )


def _existing_relation(item: dict[str, Any]) -> ExistingRelation:
    return ExistingRelation(
        id=int(item.get("ID") or 0),
        code=item.get("Code") or "",
        name=item.get("Bedrijf") or "",
        email=item.get("Email") or "",
    )


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def preload_wsdl() -> None:
    """Parse the WSDL now (the worker's parent process), so forked jobs inherit it."""
    _wsdl_document()
