"""The customer's relation (debtor) in e-Boekhouden for one booking: from the cache, else
found, else created; a business relation is compared with the order once per set of
details, filling in what it lacks (UpdateRelatie) and noting what differs.

An ICP sale (reverse charge) is booked under the buyer's own VAT number: the opgaaf ICP
lists it by the relation's number. When the relations its e-mail address finds all carry
another VAT number, it goes on a relation of this buyer (app.core.relations.buyer_relation,
found or created), never on another company's, and the booking says so.

Two first orders of one new customer, booked at once by two workers (or by two shops on
one administration), would both find nothing and both add the relation: the look-up and
the add run under a Redis lock per administration and relation code, and the worker that
waited finds the relation the other made. Should e-Boekhouden still answer that the
relation exists (the lock expired, Redis was away), that answer is recognised by its
meaning on both adapters (app/clients/meaning.py) and the relation is found and used."""

from __future__ import annotations

from dataclasses import replace

from app.clients import BookkeepingApi, ExistingRelation
from app.core.mutations import Relation
from app.core.relations import buyer_relation, other_buyer_note, relation_changes
from app.core.vat_numbers import normalise
from app.errors import RelationExistsError
from app.fastpaths import relation_lock
from app.services import Services
from app.store.shops import Shop


def ensure_relation(
    services: Services, shop: Shop, bk: BookkeepingApi, relation: Relation, *, icp: bool = False
) -> tuple[str, list[str]]:
    """The code to book on: cached, else found (by e-mail, which finds our own code
    too; by code without one), else created. An order with a VAT number or company
    name is compared with the relation once per set of details (the cache remembers
    what it was checked with), filling in what the relation lacks (UpdateRelatie);
    different values are kept, with a warning on the booking. ``icp``: an ICP sale, which
    is never booked on a relation with another VAT number."""
    cache = services.relations
    cached = cache.get(shop.id, relation)
    if cached:
        return cached, []
    admin = shop.credentials.administration_key
    with relation_lock(services.redis, admin, relation.code):
        cached = cache.get(shop.id, relation)  # made by another worker while we waited
        if cached:
            return cached, []
        return _find_or_add(services, shop, bk, relation, icp)


def _find_or_add(
    services: Services, shop: Shop, bk: BookkeepingApi, relation: Relation, icp: bool
) -> tuple[str, list[str]]:
    cache = services.relations
    warnings: list[str] = []
    wanted = relation
    matches = _find(bk, relation)
    existing = _pick(matches, relation, icp)
    if icp and matches and existing is None:  # each carries another VAT number
        own = buyer_relation(relation, shop.mapping)
        existing = _add(bk, own)
        warnings.append(other_buyer_note(matches[0], own))
        relation = replace(relation, code=own.code)
    elif existing is None:
        existing = _add(bk, relation)
    if existing is None:
        code = relation.code
    else:
        code = existing.code
        changes, notes = relation_changes(existing, relation)
        warnings.extend(notes)
        if changes:
            bk.update_relation(existing, changes)
    cache.put(shop.id, wanted, code)
    return code, warnings


def _add(bk: BookkeepingApi, relation: Relation) -> ExistingRelation | None:
    """Create the relation (None: created as it is). If AddRelatie says the code exists
    (made a moment ago by another worker, or its e-mail address was changed by hand), that
    relation is used; anything else is a real conflict for a person."""
    try:
        bk.add_relation(relation)
    except RelationExistsError:
        existing = bk.find_relation(relation.code)
        if existing is None:
            raise
        return existing
    return None


def _find(bk: BookkeepingApi, relation: Relation) -> list[ExistingRelation]:
    """One GetRelaties: by e-mail (ours first, then the oldest with that address), or by
    code for a customer without one."""
    if not relation.email:
        found = bk.find_relation(relation.code)
        return [found] if found is not None else []
    matches = bk.find_relations_by_email(relation.email)
    return sorted(matches, key=lambda r: (r.code.casefold() != relation.code.casefold(), r.id))


def _pick(
    matches: list[ExistingRelation], relation: Relation, icp: bool
) -> ExistingRelation | None:
    """The relation to book on: the first match; for an ICP sale the first with the buyer's
    VAT number, else the first without one (it is filled in), else none."""
    if not icp:
        return matches[0] if matches else None
    for wanted in (relation.vat_number, ""):
        for found in matches:
            if normalise(found.vat_number) == wanted:
                return found
    return None
