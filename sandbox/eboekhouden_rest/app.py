"""The e-Boekhouden REST simulator as a WSGI app (beside the SOAP one).

REST surface (what the connector's REST client talks to), JSON in and out:
``POST/DELETE /v1/session``; ``POST/GET /v1/mutation``, ``GET /v1/mutation/{id}``;
``POST/GET /v1/relation``, ``GET/PATCH /v1/relation/{id}``; ``GET /v1/ledger``,
``GET /v1/ledger/{id}``; ``GET /v1/administration``, ``/v1/administration/linked``.
Request bodies are validated against ``schemas`` (400 with the field's e-Boekhouden code
when the reference pages give one); business rules in ``state`` answer 400 with their
codes; session problems answer 401 (``type: security``).

Control surface, under ``/_sandbox/`` (as the SOAP simulator's): ``GET state``,
``POST faults``, ``POST administrations {token[, name]}`` (``state`` names each
administration by ``token_id(token)``), ``POST reset``,
``POST clock {"advance": seconds}``, ``POST sessions/expire {"token"?}``,
``POST rate_limit {"per_second": n|null}`` (429 + ``Retry-After`` beyond n requests a
second per administration: ``sandbox.ratelimit``); by hand:
``POST mutations/delete {token, id}``, ``POST mutations/change {token, id, row?, amount?,
vat_code?, ledger_code?, date?}``.

Faults (``sandbox.faults``), taken once per request by operation name (``session``,
``end_session``, ``create_mutation``, ``get_mutations``, ``get_mutation``,
``create_relation``, ``get_relations``, ``get_relation``, ``update_relation``,
``get_ledgers``, ``get_ledger``, ``get_administrations``): ``latency``, ``http_status``
(JSON body; ``retry_after``), ``timeout``, ``drop``, ``commit_then_drop``, ``soap_fault``
(here: a 500 with an error body), ``session_expired`` (the session dies: 401
API_SESSION_004; no effect on ``session`` itself), ``auth`` (the API token is revoked:
401).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.eboekhouden_rest import routes
from sandbox.eboekhouden_rest.state import DEFAULT_SESSION_LIFETIME, ApiError, Books
from sandbox.faults import Fault, Faults, drop_connection
from sandbox.ratelimit import InFlight, RateLimit

CONTROL_PREFIX = "/_sandbox/"
JSON = "application/json; charset=utf-8"


def token_id(token: str) -> str:
    """How ``/_sandbox/state`` names an administration: never the API token itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


class EBoekhoudenRestSimulator:
    """A faithful-enough e-Boekhouden REST API; the object is a WSGI callable."""

    def __init__(
        self,
        faults: Faults | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        session_lifetime: int = DEFAULT_SESSION_LIFETIME,
        rate_limit: float | None = None,
    ) -> None:
        self.faults = faults if faults is not None else Faults()
        self.calls: Counter[str] = Counter()
        self._clock = clock
        self._offset = 0.0
        self._lock = threading.RLock()
        self.books = Books(self.now, session_lifetime)
        # Requests per second per administration (None: no limit; docs/assumptions-
        # eboekhouden.md 18) and the requests each administration has open at once.
        self.rate_limit = RateLimit(rate_limit)
        self.in_flight = InFlight()

    # -- test API ----------------------------------------------------------------------

    def now(self) -> float:
        return self._clock() + self._offset

    def advance_clock(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def add_administration(self, token: str, *, name: str = "") -> None:
        with self._lock:
            self.books.add_administration(token, name or "Webshop")

    def add_ledger(
        self, token: str, code: str, description: str, category: str = "VW", group: str = ""
    ) -> int:
        with self._lock:
            admin = self.books.administrations[token]
            return self.books.add_ledger(admin, code, description, category, group)

    def add_relation(
        self, token: str, code: str, name: str = "", *, email: str = "", bp: str = "B"
    ) -> int:
        """Seed a relation (same rules as POST /v1/relation); returns its id."""
        body = {"type": bp, "code": code, "name": name or code, "emailAddress": email or None}
        with self._lock:
            created = self.books.create_relation(self.books.administrations[token], body)
            return int(created["id"])

    def expire_token(self, token: str, expired: bool = True) -> None:
        """The API token reaches its end date (POST /v1/session → API_SESSION_004)."""
        with self._lock:
            self.books.administrations[token].token_expired = expired

    def mutations(self, token: str) -> list[dict[str, Any]]:
        """Stored mutations: the request body plus ``id``, rows with the computed
        ``vatAmount`` (Decimal) and ``vat`` totals per code, and ``ledgerCode`` per row."""
        with self._lock:
            admin = self.books.administrations[token]
            found = copy.deepcopy(admin.mutations)
            for mutation in found:
                mutation["ledgerCode"] = admin.ledgers[mutation["ledgerId"]]["code"]
                for row in mutation["rows"]:
                    row["ledgerCode"] = admin.ledgers[row["ledgerId"]]["code"]
            return found

    def delete_mutation(self, token: str, mutation_id: int) -> None:
        """A person deletes a mutation in e-Boekhouden's own screens."""
        with self._lock:
            admin = self.books.administrations[token]
            admin.mutations.remove(self.books.mutation(admin, mutation_id))

    def change_mutation(self, token: str, mutation_id: int, **changes: Any) -> dict[str, Any]:
        """A person changes a row by hand (``Books.change_mutation``: ``row``, ``amount``,
        ``vat_code``, ``ledger_code``, ``date``); its VAT is computed again."""
        with self._lock:
            admin = self.books.administrations[token]
            return copy.deepcopy(self.books.change_mutation(admin, mutation_id, **changes))

    def relations(self, token: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self.books.administrations[token].relations.values()))

    def admin_calls(self, token: str) -> Counter[str]:
        with self._lock:
            return Counter(self.books.administrations[token].calls)

    def sources(self, token: str) -> Counter[str]:
        with self._lock:
            return Counter(self.books.administrations[token].sources)

    def expire_sessions(self, token: str | None = None) -> int:
        with self._lock:
            return self.books.expire_sessions(token)

    def reset(self) -> None:
        """Empty books, no sessions, zero counters, no faults; administrations stay."""
        with self._lock:
            self.books.reset()
            self.calls.clear()
            self._offset = 0.0
        self.faults.clear()
        self.rate_limit.reset()
        self.in_flight.reset()

    def state(self) -> dict[str, Any]:
        with self._lock:
            admins = {
                token_id(a.token): {
                    "name": a.name,
                    "calls": dict(a.calls),
                    "mutations": a.mutations,
                    "relations": list(a.relations.values()),
                }
                for a in self.books.administrations.values()
            }
            return _jsonable(
                {
                    "calls": dict(self.calls),
                    "open_sessions": len(self.books.sessions),
                    "faults": self.faults.snapshot(),
                    "administrations": admins,
                    "most_in_flight": dict(self.in_flight.most),
                    "rate_limited": dict(self.rate_limit.refused),
                }
            )

    # -- WSGI --------------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith(CONTROL_PREFIX):
            response = self._control(request)
        else:
            response = self._api(request)
        return response(environ, start_response)

    def _api(self, request: Request) -> Response:
        route = routes.match(request.method, request.path)
        if route is None:
            return _json({"type": "error", "title": "Not Found", "status": 404}, 404)
        operation, handler, args = route
        with self._lock:
            self.calls[operation] += 1
        admin = self._admin_of(request, operation)
        wait = self.rate_limit.admit(admin)
        if wait is not None:  # over the (assumed) limit: refused, nothing done
            body = {"type": "error", "title": "Too Many Requests", "status": 429}
            return Response(
                json.dumps(body), 429, headers={"Retry-After": str(wait)}, content_type=JSON
            )
        with self.in_flight.open(admin):
            return self._serve(request, operation, handler, args)

    def _admin_of(self, request: Request, operation: str) -> str:
        """Which administration a request is for (``token_id``), as the limits count it."""
        if operation == "session":
            with contextlib.suppress(ValueError, AttributeError):
                return token_id(str(json.loads(request.get_data() or b"{}").get("accessToken")))
            return "?"
        token = (request.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        with self._lock:
            session = self.books.sessions.get(token)
        return token_id(session.admin) if session is not None else "?"

    def _serve(self, request: Request, operation: str, handler: Any, args: Any) -> Response:
        if self.faults.latency:
            time.sleep(self.faults.latency)
        fault = self.faults.take(operation)
        if fault is not None:
            early = self._apply_early(fault, request, operation)
            if early is not None:
                return early
        try:
            with self._lock:
                status, body = handler(self.books, request, *args)
        except ApiError as error:
            return _json(error.body(), error.status)
        if fault is not None and fault.kind == "commit_then_drop":
            drop_connection(request.environ)
            raise ConnectionAbortedError("simulated dropped connection")
        if body is None:
            return Response(b"", status)
        return _json(_jsonable(body), status)

    def _apply_early(self, fault: Fault, request: Request, operation: str) -> Response | None:
        params = fault.params
        if fault.kind in ("latency", "timeout"):
            time.sleep(float(params.get("seconds", 0.5 if fault.kind == "latency" else 30)))
        elif fault.kind in ("http_status", "soap_fault"):
            status = int(params.get("status", 503 if fault.kind == "http_status" else 500))
            headers = {"Retry-After": str(params["retry_after"])} if "retry_after" in params else {}
            body = {
                "type": "error",
                "title": params.get("message", "Simulated failure."),
                "status": status,
            }
            return Response(json.dumps(body), status, headers=headers, content_type=JSON)
        elif fault.kind == "drop":
            drop_connection(request.environ)
            raise ConnectionAbortedError("simulated dropped connection")
        elif fault.kind == "session_expired" and operation != "session":
            # (Opening a session has no session to expire: that request goes through. An
            # API token that expired is ``expire_token``, a permanent condition.)
            with self._lock:
                self.books.end_session(request.headers.get("Authorization"))
            error = ApiError(
                "API_SESSION_004", "Access token has expired.", status=401, kind="security"
            )
            return _json(error.body(), 401)
        elif fault.kind == "auth":
            return _json(ApiError("", "Unauthorized.", status=401, kind="security").body(), 401)
        return None

    # -- control -----------------------------------------------------------------------

    def _control(self, request: Request) -> Response:
        name = request.path[len(CONTROL_PREFIX) :].strip("/")
        if name == "state" and request.method == "GET":
            return _json(self.state())
        if request.method != "POST":
            return _json({"error": "not found"}, 404)
        try:
            body = json.loads(request.get_data() or b"{}")
            if name == "rate_limit":  # {"per_second": 5} or {"per_second": null}
                self.rate_limit.per_second = body.get("per_second")
                return _json({"per_second": self.rate_limit.per_second})
            if name == "faults":
                self.faults.configure(body)
                return _json(self.faults.snapshot())
            if name == "administrations":
                self.add_administration(body["token"], name=body.get("name", ""))
                return _json({"created": True}, 201)
            if name == "reset":
                self.reset()
                return _json({"reset": True})
            if name == "clock":
                self.advance_clock(float(body.get("advance", 0)))
                return _json({"now": self.now()})
            if name == "sessions/expire":
                return _json({"expired": self.expire_sessions(body.get("token"))})
            if name == "mutations/delete":  # {token, id}: deleted by hand
                self.delete_mutation(body["token"], int(body["id"]))
                return _json({"deleted": int(body["id"])})
            if name == "mutations/change":  # {token, id, row?, amount?, vat_code?, …}
                keys = ("row", "amount", "vat_code", "ledger_code", "date")
                changes = {k: body[k] for k in keys if body.get(k) is not None}
                if "amount" in changes:
                    changes["amount"] = Decimal(str(changes["amount"]))
                changed = self.change_mutation(body["token"], int(body["id"]), **changes)
                return _json(_jsonable(changed))
        except (ValueError, KeyError, TypeError) as exc:
            return _json({"error": f"bad request: {exc}"}, 400)
        except ApiError as exc:
            return _json(exc.body(), exc.status)
        return _json({"error": "not found"}, 404)


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status, content_type=JSON)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    return value
