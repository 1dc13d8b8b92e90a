"""The relation (debtor) calls of the REST client: find by code or e-mail, create, update,
and the code ↔ id translation a mutation needs (GET /v1/relation?code=, cached)."""

from __future__ import annotations

from typing import Any

from app.clients.eboekhouden_rest import errors as errs
from app.clients.eboekhouden_rest import wire
from app.clients.eboekhouden_rest.ids import RELATION, IdCache
from app.core.mutations import ExistingRelation, Relation
from app.errors import UnknownRelationError, UpstreamRejectedError, UpstreamUnavailableError

SYSTEM = errs.SYSTEM


class RestRelations:
    """Mixed into EBoekhoudenRestClient, which provides ``_call``, ``_list`` and ``_ids``."""

    _ids: IdCache

    def _call(self, method: str, path: str, operation: str, **kw: Any) -> Any:
        raise NotImplementedError

    def _list(self, path: str, operation: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def find_relation(self, code: str) -> ExistingRelation | None:
        wanted = code.strip().casefold()
        for item in self._list("/v1/relation", "get_relations", {"code": code}):
            if str(item.get("code") or "").strip().casefold() == wanted:
                found = self._relation(int(item.get("id") or 0), item)
                self._ids.put(RELATION, wanted, found.id)
                return found
        return None

    def _relation(
        self, relation_id: int, item: dict[str, Any], email: str = ""
    ) -> ExistingRelation:
        """The whole relation (GET /v1/relation/{id}): list items carry only id, type and
        code, and the pipeline compares name and VAT number before it books (a relation is
        only looked up when our cache does not know it, or for a business customer)."""
        if relation_id:
            full = self._call("GET", f"/v1/relation/{relation_id}", "get_relation", idempotent=True)
            if isinstance(full, dict):
                item = {**item, **full}
        return wire.existing_relation(item, email=email)

    def find_relations_by_email(self, email: str) -> list[ExistingRelation]:
        """GET /v1/relation?email= (list items carry only id, type and code)."""
        items = self._list("/v1/relation", "get_relations", {"email": email.strip()})
        found = [self._relation(int(item.get("id") or 0), item, email.strip()) for item in items]
        for relation in found:
            self._ids.put(RELATION, relation.code.strip().casefold(), relation.id)
        return found

    def add_relation(self, relation: Relation) -> int:
        """POST /v1/relation; returns the relation's id."""
        result = self._call(
            "POST",
            "/v1/relation",
            "create_relation",
            body=wire.relation_body(relation),
            idempotent=False,
            context={"relation_code": relation.code},
        )
        number = result.get("id") if isinstance(result, dict) else None
        if not number:
            raise UpstreamUnavailableError(
                "e-Boekhouden create_relation returned no id",
                system=SYSTEM,
                operation="create_relation",
                code="no_number",
                explanation=errs.NO_NUMBER.format(operation="de nieuwe relatie"),
            )
        self._ids.put(RELATION, relation.code.strip().casefold(), int(number))
        return int(number)

    def update_relation(self, existing: ExistingRelation, changes: dict[str, str]) -> None:
        """PATCH /v1/relation/{id} with what changes (``changes`` in cRelatie's names, as
        app.core.relations computes them for both adapters)."""
        self._call(
            "PATCH",
            f"/v1/relation/{int(existing.id)}",
            "update_relation",
            body=wire.relation_patch(existing, changes),
            idempotent=True,
            context={"relation_code": existing.code},
        )

    def _relation_code(self, relation_id: int) -> str:
        """GET /v1/relation/{id} → its code ("" when e-Boekhouden no longer knows it)."""
        try:
            found = self._call(
                "GET", f"/v1/relation/{relation_id}", "get_relation", idempotent=True
            )
        except UpstreamRejectedError as exc:
            if exc.code != "http_404":
                raise
            return ""  # deleted: not on any relation of ours, so never adopted
        code = str(found.get("code") or "").strip() if isinstance(found, dict) else ""
        if code:
            self._ids.put(RELATION, code.casefold(), relation_id)
        return code

    def _relation_id(self, code: str) -> int:
        cached = self._ids.get(RELATION, code.strip().casefold())
        if cached:
            return cached
        found = self.find_relation(code)
        if found is None:
            raise UnknownRelationError(
                f"e-Boekhouden: relation {code!r} not found",
                system=SYSTEM,
                operation="get_relations",
                code="relation_unknown",
                explanation=errs.ERROR_CODES["MUT_013"].explanation.format(relation_code=code),
            )
        return found.id
