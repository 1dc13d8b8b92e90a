"""One handler per REST endpoint the simulator serves: (books, request, *path args) →
(HTTP status, JSON body or None). Bodies are validated against ``schemas`` first."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Request

from sandbox.eboekhouden_rest import schemas
from sandbox.eboekhouden_rest.state import Administration, ApiError, Books

Answer = tuple[int, Any]
Handler = Callable[..., Answer]


def _body(request: Request, schema: dict[str, Any]) -> dict[str, Any]:
    """The JSON body, valid against ``schema`` (else the first coded violation, or a
    generic validation error listing them all)."""
    try:
        body = json.loads(request.get_data() or b"null", parse_float=Decimal)
    except ValueError:
        raise ApiError("", "The request body is not valid JSON.") from None
    if body is None:
        body = {}
    violations = schemas.validate(schema, body)
    if not violations:
        return body  # type: ignore[no-any-return]
    coded = next((v for v in violations if v.code), None)
    if coded is not None:
        return _raise(coded)
    raise ApiError(
        "",
        "One or more validation errors occurred.",
        prop=violations[0].path,
        errors=[f"{v.path}: {v.message}" for v in violations],
    )


def _raise(violation: schemas.Violation) -> Any:
    raise ApiError(violation.code, f"{violation.path} {violation.message}.", prop=violation.path)


def _admin(books: Books, request: Request, operation: str) -> Administration:
    return books.resolve(request.headers.get("Authorization"), operation)


def _paged(request: Request, items: list[dict[str, Any]]) -> Answer:
    try:
        limit = int(request.args.get("limit", 100))
        offset = int(request.args.get("offset", 0))
    except ValueError:
        raise ApiError("", "limit and offset must be numbers.") from None
    page = items[offset : offset + max(0, min(limit, 2000))]
    return 200, {"items": page, "count": len(page)}


def _eq(value: Any, wanted: str | None) -> bool:
    return wanted is None or str(value or "").casefold() == wanted.strip().casefold()


def start_session(books: Books, request: Request) -> Answer:
    body = _body(request, schemas.SESSION_REQUEST)
    return 200, books.open_session(body["accessToken"], body["source"])


def end_session(books: Books, request: Request) -> Answer:
    books.end_session(request.headers.get("Authorization"))
    return 204, None


def create_mutation(books: Books, request: Request) -> Answer:
    admin = _admin(books, request, "create_mutation")
    return 201, {"id": books.create_mutation(admin, _body(request, schemas.CREATE_MUTATION))}


def _listed(mutation: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": mutation["id"],
        "type": mutation["type"],
        "date": mutation["date"],
        "invoiceNumber": mutation["invoiceNumber"],
        "ledgerId": mutation["ledgerId"],
        "amount": Books.total(mutation),
        "entryNumber": mutation.get("entryNumber") or "",
    }


def _dated(value: str, args: Any) -> bool:
    """The ``date`` filter with the list endpoints' operators (NOTES.md §12: ``[not_eq]``,
    ``[gt]``, ``[lt]``, ``[range]a,b``; ISO dates, a range inclusive at both ends)."""
    for key, wanted in args.items():
        if key == "date" and value != wanted:
            return False
        if not key.startswith("date["):
            continue
        operator = key[5:].rstrip("]")
        if operator == "range":
            first, _, last = wanted.partition(",")
            if not _iso(first) or not _iso(last):
                raise ApiError("", "date[range] needs two dates: yyyy-mm-dd,yyyy-mm-dd.")
            if not first <= value <= last:
                return False
        elif operator in ("gt", "lt", "not_eq"):
            if not _iso(wanted):
                raise ApiError("", f"date[{operator}] needs a date: yyyy-mm-dd.")
            if {"gt": value <= wanted, "lt": value >= wanted, "not_eq": value == wanted}[operator]:
                return False
        else:
            raise ApiError("", f"Unknown filter operator [{operator}] for date.")
    return True


def _iso(text: str) -> bool:
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text))


def get_mutations(books: Books, request: Request) -> Answer:
    admin = _admin(books, request, "get_mutations")
    args = request.args
    found = [
        _listed(m)
        for m in admin.mutations
        if _eq(m["invoiceNumber"], args.get("invoiceNumber"))
        and _eq(m["type"], args.get("type"))
        and _eq(m["id"], args.get("id"))
        and _eq(m.get("description"), args.get("description"))
        and _dated(m["date"], args)
    ]
    return _paged(request, found)


def get_mutation(books: Books, request: Request, mutation_id: int) -> Answer:
    admin = _admin(books, request, "get_mutation")
    for mutation in admin.mutations:
        if mutation["id"] == mutation_id:
            return 200, mutation
    raise ApiError("", "Mutation not found.", status=404)


def create_relation(books: Books, request: Request) -> Answer:
    admin = _admin(books, request, "create_relation")
    return 201, books.create_relation(admin, _body(request, schemas.CREATE_RELATION))


def get_relations(books: Books, request: Request) -> Answer:
    admin = _admin(books, request, "get_relations")
    args = request.args
    found = [
        {"id": r["id"], "type": r["type"], "code": r["code"]}
        for r in admin.relations.values()
        if _eq(r["code"], args.get("code"))
        and _eq(r["type"], args.get("type"))
        and _eq(r.get("emailAddress"), args.get("email"))
        and _eq(r.get("name"), args.get("name"))
        and _eq(r.get("city"), args.get("city"))
        and _eq(r.get("contact"), args.get("contact"))
    ]
    return _paged(request, found)


def get_relation(books: Books, request: Request, relation_id: int) -> Answer:
    admin = _admin(books, request, "get_relation")
    if relation_id not in admin.relations:
        raise ApiError("", "Relation not found.", status=404)
    return 200, admin.relations[relation_id]


def update_relation(books: Books, request: Request, relation_id: int) -> Answer:
    admin = _admin(books, request, "update_relation")
    books.update_relation(admin, relation_id, _body(request, schemas.PATCH_RELATION))
    return 204, None


def get_ledgers(books: Books, request: Request) -> Answer:
    admin = _admin(books, request, "get_ledgers")
    args = request.args
    found = [
        dict(g)
        for g in admin.ledgers.values()
        if (args.get("code") is None or g["code"] == args["code"])
        and _eq(g["category"], args.get("category"))
    ]
    return _paged(request, found)


def get_ledger(books: Books, request: Request, ledger_id: int) -> Answer:
    admin = _admin(books, request, "get_ledger")
    if ledger_id not in admin.ledgers:
        raise ApiError("", "Ledger not found.", status=404)
    return 200, admin.ledgers[ledger_id]


def get_administrations(books: Books, request: Request) -> Answer:
    admin = _admin(books, request, "get_administrations")
    return _paged(request, [{"guid": admin.guid, "company": admin.name}])


_TABLE: list[tuple[str, str, str, Handler]] = [
    ("POST", "/v1/session", "session", start_session),
    ("DELETE", "/v1/session", "end_session", end_session),
    ("POST", "/v1/mutation", "create_mutation", create_mutation),
    ("GET", "/v1/mutation", "get_mutations", get_mutations),
    ("GET", r"/v1/mutation/(\d+)", "get_mutation", get_mutation),
    ("POST", "/v1/relation", "create_relation", create_relation),
    ("GET", "/v1/relation", "get_relations", get_relations),
    ("GET", r"/v1/relation/(\d+)", "get_relation", get_relation),
    ("PATCH", r"/v1/relation/(\d+)", "update_relation", update_relation),
    ("GET", "/v1/ledger", "get_ledgers", get_ledgers),
    ("GET", r"/v1/ledger/(\d+)", "get_ledger", get_ledger),
    ("GET", "/v1/administration", "get_administrations", get_administrations),
    ("GET", "/v1/administration/linked", "get_administrations", get_administrations),
]
ROUTES = [
    (method, re.compile(f"^{pattern}/?$"), operation, handler)
    for method, pattern, operation, handler in _TABLE
]


def match(method: str, path: str) -> tuple[str, Handler, tuple[int, ...]] | None:
    for route_method, pattern, operation, handler in ROUTES:
        found = pattern.match(path)
        if found and route_method == method:
            return operation, handler, tuple(int(g) for g in found.groups())
    return None
