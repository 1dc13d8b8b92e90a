"""e-Boekhouden.nl SOAP client: the real ``BookkeepingApi``.

- One session per client instance, opened lazily, shared by threads, reopened once when a
  call fails with a session error (that call is then retried once), closed by ``close()``.
- Every ``ErrorMsg`` is checked; failures become the typed errors of ``app.errors``:
  transient ``UpstreamUnavailableError``, permanent ``UpstreamRejectedError`` (and kin).
- Security codes and the session id never reach exception texts, logs or ``repr()``.
- zeep stays inside this package: methods take and return ``app.core.mutations`` types
  (``transport``: the WSDL and one SOAP call; ``wire``: core types ↔ zeep's dicts;
  ``errors``: ErrorMsg codes; ``listing``: a period's mutations past the 500-cap).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, Protocol

from app.clients.eboekhouden import errors as errs
from app.clients.eboekhouden import listing, wire
from app.clients.eboekhouden.transport import create_service, send
from app.core.mutations import (
    Administration,
    BookedMutation,
    ExistingRelation,
    LedgerAccount,
    Mutation,
    MutationListing,
    Relation,
)
from app.errors import SessionExpiredError, UpstreamUnavailableError

log = logging.getLogger(__name__)

DEFAULT_URL = "https://soap.e-boekhouden.nl/soap.asmx"
DEFAULT_SOURCE = "MWWConnect"
SYSTEM = errs.SYSTEM

Metrics = Callable[[str, str, float], None]


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
        """``timeout``/``operation_timeout``: connect/read timeout of each call. ``metrics(
        operation, outcome, seconds)`` after every call (outcome "ok" or the exception's class
        name). ``session_store`` shares the session between processes: one per administration."""
        self.username = username
        self.url = url
        self.source = source
        self._code1 = _Secret(security_code1)
        self._code2 = _Secret(security_code2)
        self._metrics = metrics
        self._lock = threading.Lock()
        self._session_id: _Secret | None = None
        self._store = session_store
        self._service = create_service(url, timeout, operation_timeout)

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
        context = {
            "invoice_number": mutation.invoice_number,
            "relation_code": mutation.relation_code,
        }
        result = self._call("AddMutatie", context, oMut=wire.mutation_to_wire(mutation))
        return wire.number(result, "Mutatienummer", "AddMutatie")

    def find_mutations(self, invoice_number: str) -> list[BookedMutation]:
        """GetMutaties filtered by Factuurnummer (exact, case-insensitive)."""
        if not invoice_number.strip():
            raise ValueError("find_mutations needs an invoice number")
        result = self._call("GetMutaties", None, cFilter=wire.mutation_filter(invoice_number))
        return wire.booked_mutations(result, invoice_number)

    def list_mutations(
        self, start: dt.date, end: dt.date, *, progress: Callable[[int], None] | None = None
    ) -> MutationListing:
        """Every mutation dated in [start, end], in as many GetMutaties as ``listing`` needs."""
        return listing.read_period(partial(self._call, "GetMutaties", None), start, end, progress)

    def find_relation(self, code: str) -> ExistingRelation | None:
        result = self._call("GetRelaties", None, cFilter={"Code": code, "ID": 0})
        return wire.relation_by_code(result, code)

    def find_relations_by_email(self, email: str) -> list[ExistingRelation]:
        result = self._call("GetRelaties", None, cFilter={"Trefwoord": email, "ID": 0})
        return wire.relations_by_email(result, email)

    def add_relation(self, relation: Relation) -> int:
        """AddRelatie; returns Rel_ID."""
        relation_wire = wire.relation_to_wire(relation, dt.date.today())
        result = self._call("AddRelatie", {"relation_code": relation.code}, oRel=relation_wire)
        return wire.number(result, "Rel_ID", "AddRelatie")

    def update_relation(self, existing: ExistingRelation, changes: dict[str, str]) -> None:
        relation = {**existing.fields, **changes, "ID": existing.id}
        self._call("UpdateRelatie", {"relation_code": existing.code}, oRel=relation)

    def ledger_accounts(self) -> list[LedgerAccount]:
        result = self._call("GetGrootboekrekeningen", None, cFilter={"ID": 0})
        return wire.ledger_accounts(result)

    def administrations(self) -> list[Administration]:
        return wire.administrations(self._call("GetAdministraties", None))

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
            result = send(self._service, operation, kwargs, self._redact)
            self._check(operation, result, context)
            return result
        except Exception as exc:
            outcome = type(exc).__name__
            raise
        finally:
            self._observe(operation, outcome, time.monotonic() - started)

    def _check(
        self, operation: str, result: dict[str, Any], context: Mapping[str, str] | None
    ) -> None:
        # UpdateRelatie's result *is* the cError; the other calls carry it in ErrorMsg.
        error = result.get("ErrorMsg") or (result if "LastErrorCode" in result else {})
        code = (error.get("LastErrorCode") or "").strip()
        description = (error.get("LastErrorDescription") or "").strip()
        if code or description:
            raise errs.error_for(
                self._redact(code),
                self._redact(description),
                operation=operation,
                context=context,
            )

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
