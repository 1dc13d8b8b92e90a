"""The customer's relation (debtor) in e-Boekhouden for one booking: from the cache, else
found, else created; a business relation is compared with the order once per set of
details, filling in what it lacks (UpdateRelatie) and noting what differs.

Two first orders of one new customer, booked at once by two workers (or by two shops on
one administration), would both find nothing and both add the relation: the look-up and
the add run under a Redis lock per administration and relation code, and the worker that
waited finds the relation the other made. Should e-Boekhouden still answer that the
relation exists (the lock expired, Redis was away), that answer is recognised by its
meaning on both adapters (app/clients/meaning.py) and the relation is found and used."""

from __future__ import annotations

from app.clients import BookkeepingApi, ExistingRelation
from app.core.mutations import Relation
from app.core.relations import relation_changes
from app.errors import RelationExistsError
from app.fastpaths import relation_lock
from app.services import Services
from app.store.shops import Shop


def ensure_relation(
    services: Services, shop: Shop, bk: BookkeepingApi, relation: Relation
) -> tuple[str, list[str]]:
    """The code to book on: cached, else found (by e-mail, which finds our own code
    too; by code without one), else created. An order with a VAT number or company
    name is compared with the relation once per set of details (the cache remembers
    what it was checked with), filling in what the relation lacks (UpdateRelatie);
    different values are kept, with a warning on the booking."""
    cache = services.relations
    cached = cache.get(shop.id, relation)
    if cached:
        return cached, []
    admin = shop.credentials.administration_key
    with relation_lock(services.redis, admin, relation.code):
        cached = cache.get(shop.id, relation)  # made by another worker while we waited
        if cached:
            return cached, []
        return _find_or_add(services, shop, bk, relation)


def _find_or_add(
    services: Services, shop: Shop, bk: BookkeepingApi, relation: Relation
) -> tuple[str, list[str]]:
    cache = services.relations
    warnings: list[str] = []
    existing = _find(bk, relation)
    if existing is None:
        try:
            bk.add_relation(relation)
        except RelationExistsError:
            # Our code exists after all (made a moment ago by another worker, or its
            # e-mail address was changed by hand): use it; anything else is a real
            # conflict for a person.
            existing = bk.find_relation(relation.code)
            if existing is None:
                raise
    if existing is None:
        code = relation.code
    else:
        code = existing.code
        changes, notes = relation_changes(existing, relation)
        warnings.extend(notes)
        if changes:
            bk.update_relation(existing, changes)
    cache.put(shop.id, relation, code)
    return code, warnings


def _find(bk: BookkeepingApi, relation: Relation) -> ExistingRelation | None:
    """One GetRelaties: by e-mail (ours first, else the oldest with that address), or
    by code for a customer without one."""
    if not relation.email:
        return bk.find_relation(relation.code)
    matches = bk.find_relations_by_email(relation.email)
    ours = [r for r in matches if r.code.casefold() == relation.code.casefold()]
    candidates = ours or sorted(matches, key=lambda r: r.id)
    return candidates[0] if candidates else None
