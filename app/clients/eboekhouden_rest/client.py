"""e-Boekhouden.nl REST client: the second real ``BookkeepingApi`` (beside SOAP).

- Session: ``POST /v1/session {accessToken, source}`` → a session token sent as
  ``Authorization: Bearer <token>`` (NOTES.md §12; whether "Bearer" is required is
  uncertain). Opened lazily, shared by threads and, through a ``SessionStore``, by
  processes; reopened once when a call answers 401 (that call is then repeated once, which
  is safe: a refused call was not processed); ``DELETE /v1/session`` on ``close()``.
- Ledgers are addressed by numeric id over REST: codes are translated with
  ``GET /v1/ledger?code=`` and cached per administration (per process, per token).
  Relation codes are translated to ids the same way (``GET /v1/relation?code=``).
- Calls, retries and error mapping: ``http.Transport``; error codes: ``errors``; JSON
  shapes: ``wire``. The API token and session token never reach texts, logs or repr().
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from app.clients.eboekhouden_rest import errors as errs
from app.clients.eboekhouden_rest import wire
from app.clients.eboekhouden_rest.http import Metrics, Secret, Transport
from app.clients.eboekhouden_rest.ids import LEDGER, RELATION, IdCache, memory_ids
from app.clients.eboekhouden_rest.relations import RestRelations
from app.clients.eboekhouden_rest.sessions import Sessions, SessionStore
from app.clients.retry_after import IN_CALL_WAIT_SECONDS
from app.core.mutations import (
    Administration,
    BookedMutation,
    LedgerAccount,
    Mutation,
    MutationListing,
    euro,
)
from app.errors import (
    SessionExpiredError,
    UnknownRelationError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)

log = logging.getLogger(__name__)

DEFAULT_URL = "https://api.e-boekhouden.nl"
DEFAULT_SOURCE = "MWWConnect"  # must match ^[\w ]{1,10}$ (API_SESSION_002)
PAGE = 500
SYSTEM = errs.SYSTEM


class EBoekhoudenRestClient(RestRelations):
    """One e-Boekhouden administration over REST (implements ``BookkeepingApi``)."""

    def __init__(
        self,
        api_token: str,
        *,
        url: str = DEFAULT_URL,
        source: str = DEFAULT_SOURCE,
        timeout: float = 10.0,
        operation_timeout: float = 30.0,
        metrics: Metrics | None = None,
        session_store: SessionStore | None = None,
        id_cache: IdCache | None = None,
        retries: int = 2,
        backoff: float = 0.5,
        max_retry_after: float = IN_CALL_WAIT_SECONDS,
    ) -> None:
        """``timeout`` is the connect timeout, ``operation_timeout`` the read timeout.
        ``metrics(operation, outcome, seconds)`` is called after every HTTP request.
        ``id_cache`` keeps ledger and relation ids (default: this process's memory)."""
        self.url = url.rstrip("/")
        self.source = source
        self._ids = id_cache if id_cache is not None else memory_ids(self.url, api_token)
        self.http = Transport(
            self.url,
            timeout=timeout,
            operation_timeout=operation_timeout,
            retries=retries,
            backoff=backoff,
            max_retry_after=max_retry_after,
            metrics=metrics,
            secrets=lambda: self._sessions.secrets(),
        )
        self._sessions = Sessions(self.http, Secret(api_token), source, session_store)
        self._ledger_codes: dict[int, str] = {}  # ledger id → code, for find_mutations

    def __repr__(self) -> str:
        state = "open" if self._sessions.is_open else "closed"
        return f"EBoekhoudenRestClient(url={self.url!r}, session={state})"

    def __enter__(self) -> EBoekhoudenRestClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- BookkeepingApi --------------------------------------------------------------

    def verify(self) -> None:
        """Open a session now with the API token (not a shared one); raises
        BookkeepingAuthError on a bad or expired token."""
        self._sessions.verify()

    def add_mutation(self, mutation: Mutation) -> int:
        """POST /v1/mutation; returns the mutation's id (its number)."""
        context = {
            "invoice_number": mutation.invoice_number,
            "relation_code": mutation.relation_code,
        }
        relation_id = self._relation_id(mutation.relation_code) if mutation.relation_code else None
        try:
            body = wire.mutation_body(mutation, self._ledger_id, relation_id)
        except wire.UnsupportedVatCode as exc:
            raise self._refused(
                "vat_code_unsupported", errs.UNSUPPORTED_VAT_CODE.format(btw_code=exc.code)
            ) from None
        except wire.VatMismatch as exc:
            raise self._refused(
                "vat_mismatch",
                errs.VAT_MISMATCH.format(theirs=euro(exc.theirs), ours=euro(exc.row.amount_vat)),
            ) from None
        try:
            result = self._call(
                "POST",
                "/v1/mutation",
                "create_mutation",
                body=body,
                idempotent=False,
                context=context,
            )
        except UnknownRelationError:
            self._ids.forget(RELATION, mutation.relation_code.strip().casefold())
            raise
        except UpstreamRejectedError as exc:
            if exc.code in ("MUT_007", "MUT_104"):  # a ledger was deleted or recreated
                self._ids.forget(LEDGER)
            raise
        number = result.get("id") if isinstance(result, dict) else None
        if not number:
            raise UpstreamUnavailableError(
                "e-Boekhouden create_mutation returned no id",
                system=SYSTEM,
                operation="create_mutation",
                code="no_number",
                explanation=errs.NO_NUMBER.format(operation="de boeking"),
            )
        return int(number)

    def find_mutations(self, invoice_number: str) -> list[BookedMutation]:
        """GET /v1/mutation?invoiceNumber= (exact, case-insensitive)."""
        if not invoice_number.strip():
            raise ValueError("find_mutations needs an invoice number")
        wanted = invoice_number.strip().casefold()
        items = self._list("/v1/mutation", "get_mutations", {"invoiceNumber": invoice_number})
        return [
            self._booked_mutation(item)
            for item in items
            if str(item.get("invoiceNumber") or "").strip().casefold() == wanted
        ]

    def list_mutations(
        self, start: dt.date, end: dt.date, *, progress: Callable[[int], None] | None = None
    ) -> MutationListing:
        """GET /v1/mutation?date[range]=start,end (every page; the operator syntax of
        NOTES.md §12), then each mutation in full: list items carry no rows. Relations
        are not looked up (the period report compares amounts, rows, codes, ledgers)."""
        found = self._list("/v1/mutation", "get_mutations", {"date[range]": f"{start},{end}"})
        calls = len(found) // PAGE + 1
        mutations = []
        for item in found:
            mutations.append(self._booked_mutation(item, relation=False))
            calls += 1
            if progress is not None:
                progress(len(mutations))
        mutations.sort(key=lambda m: (m.date or start, m.number))
        return MutationListing(tuple(mutations), calls)

    def _booked_mutation(self, item: dict[str, Any], *, relation: bool = True) -> BookedMutation:
        """The whole mutation (GET /v1/mutation/{id}), with relation and ledger ids turned
        back into codes, so that app.core.adoption can tell our own mutation from another's
        (list items carry no relation and no rows)."""
        mutation_id = int(item.get("id") or 0)
        if mutation_id:
            full = self._call("GET", f"/v1/mutation/{mutation_id}", "get_mutation", idempotent=True)
            if isinstance(full, dict):
                item = {**item, **full}
        relation_id = item.get("relationId") if relation else None
        relation_code = self._relation_code(int(relation_id)) if relation_id else ""
        return wire.booked_mutation(
            item, relation_code=relation_code, ledger_code=self._ledger_code
        )

    def _ledger_code(self, ledger_id: int) -> str:
        """A ledger id → its code, from the chart of accounts (read once per lookup)."""
        codes = self._ledger_codes
        if ledger_id not in codes:
            codes.update({a.id: a.code for a in self.ledger_accounts()})
        return codes.get(ledger_id, "")

    def ledger_accounts(self) -> list[LedgerAccount]:
        accounts = [
            wire.ledger_account(item) for item in self._list("/v1/ledger", "get_ledgers", {})
        ]
        for account in accounts:
            if account.code and account.id:
                self._ids.put(LEDGER, account.code, account.id)
        return accounts

    def vat_codes(self) -> list[str]:
        """The VAT codes the REST API accepts (an enum in its spec, no endpoint)."""
        return list(wire.VAT_CODES)

    def administrations(self) -> list[Administration]:
        items = self._list("/v1/administration/linked", "get_linked_administrations", {})
        return [wire.administration(item) for item in items]

    def close(self) -> None:
        """DELETE /v1/session if a session is open. Never raises."""
        self._sessions.close()

    # -- ids -------------------------------------------------------------------------

    def _ledger_id(self, code: str) -> int:
        cached = self._ids.get(LEDGER, code)
        if cached:
            return cached
        for item in self._list("/v1/ledger", "get_ledgers", {"code": code}):
            if str(item.get("code") or "") == code and item.get("id"):
                self._ids.put(LEDGER, code, int(item["id"]))
                return int(item["id"])
        raise self._refused("ledger_unknown", errs.UNKNOWN_LEDGER_CODE.format(ledger=code))

    def _refused(self, code: str, explanation: str) -> UpstreamRejectedError:
        return UpstreamRejectedError(
            f"e-Boekhouden: {code}",
            system=SYSTEM,
            operation="create_mutation",
            code=code,
            explanation=explanation,
        )

    # -- sessions and calls -------------------------------------------------------------

    def _list(self, path: str, operation: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every item of a ``{items, count}`` list, page by page."""
        items: list[dict[str, Any]] = []
        while True:
            page = self._call(
                "GET",
                path,
                operation,
                idempotent=True,
                params={**params, "limit": PAGE, "offset": len(items)},
            )
            batch = page.get("items") if isinstance(page, dict) else None
            batch = [item for item in (batch or []) if isinstance(item, dict)]
            items.extend(batch)
            if len(batch) < PAGE:
                return items

    def _call(self, method: str, path: str, operation: str, **kw: Any) -> Any:
        token = self._sessions.current()
        try:
            return self.http.call(method, path, operation, token=token.value, **kw)
        except SessionExpiredError:
            log.info("e-Boekhouden session refused during %s; reopening once", operation)
            token = self._sessions.reopen(token)
            return self.http.call(method, path, operation, token=token.value, **kw)
