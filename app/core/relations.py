"""PURE: the debtor (e-Boekhouden relation) for an order, and its stable code.

RelatieCode = prefix + base32 of SHA-256 of the lower-cased e-mail: deterministic, at
most 15 characters, the same for a returning customer. Values longer than e-Boekhouden
allows are refused, not cut (NOTES.md §6).
"""

from __future__ import annotations

import base64
import hashlib

from app.core.mapping_settings import MAX_RELATION_CODE, MappingSettings
from app.core.mutations import ExistingRelation, Relation
from app.core.orders import Address, Order
from app.core.vat_numbers import normalise
from app.errors import MappingError

COLLECTIVE_DEBTOR_NAME = "Particuliere klanten webwinkel"  # if we create it
RELATION_LIMITS = {
    "name": 100,
    "contact": 150,
    "address": 150,
    "postcode": 50,
    "city": 50,
    "country": 50,
    "email": 150,
    "phone": 50,
    "vat_number": 50,
}
RELATION_LABELS = {
    "name": "bedrijfsnaam/naam",
    "contact": "contactpersoon",
    "address": "adres",
    "postcode": "postcode",
    "city": "plaats",
    "country": "land",
    "email": "e-mailadres",
    "phone": "telefoonnummer",
    "vat_number": "btw-nummer",
}


def invoice_address(order: Order) -> Address:
    """The invoice address, or the deprecated debtor-level fields live responses carry."""
    debtor = order.debtor
    if debtor.invoice is not None:
        return debtor.invoice
    return Address(name=debtor.name, company=debtor.company, phone=debtor.phone)


def vat_facts(order: Order) -> tuple[str, str]:
    """(the buyer's VAT number, normalised; the destination country) as the period report
    needs them for the opgaaf ICP and the OSS return: the country is the order's tax
    region, else its shipping country, else the invoice address's country."""
    address = invoice_address(order)
    country = order.tax_region or order.shipping_country or address.country_code
    return normalise(address.taxnumber)[:20], country.strip().upper()[:2]


def relation_code(prefix: str, identity: str) -> str:
    """Deterministic, at most 15 characters, the same for the same customer e-mail."""
    digest = hashlib.sha256(identity.strip().lower().encode()).digest()
    body = base64.b32encode(digest).decode().rstrip("=")
    return (prefix + body)[:MAX_RELATION_CODE]


def build_relation(order: Order, settings: MappingSettings) -> Relation:
    """The debtor for this order, from ``debtor.address.invoice``."""
    address = invoice_address(order)
    email = order.debtor.email.strip()
    identity = email or "|".join(filter(None, (address.name, address.zipcode, address.company)))
    if not identity:
        raise MappingError(
            f"Bestelling {order.number} heeft geen e-mailadres en geen naam van de klant; "
            "zonder klantgegevens kan geen debiteur worden aangemaakt."
        )
    prefix = settings.relation_prefix[: MAX_RELATION_CODE - 8]
    company = address.company
    taxnumber = normalise(address.taxnumber)
    if settings.collective_debtor and not (company or taxnumber or order.business_model == "B2B"):
        # A consumer on the shop's collective debtor: one relation for all of them, so no
        # personal details on it; the invoice number and description name the order.
        return Relation(code=settings.collective_debtor, name=COLLECTIVE_DEBTOR_NAME, bp="P")
    relation = Relation(
        code=relation_code(prefix, identity),
        name=company or address.name or email,
        bp="B" if company or order.business_model == "B2B" else "P",
        contact=address.name if company else "",
        address=" ".join(filter(None, (address.street, address.number))),
        postcode=address.zipcode,
        city=address.city,
        country=address.country_code or order.shipping_country,
        email=email,
        phone=address.phone,
        vat_number=taxnumber,
        company=company,
    )
    for field_name, limit in RELATION_LIMITS.items():
        value = getattr(relation, field_name)
        if len(value) > limit:
            raise MappingError(
                f"Het veld {RELATION_LABELS[field_name]} van de klant van bestelling "
                f"{order.number} is {len(value)} tekens; e-Boekhouden staat er {limit} toe. "
                "Pas de klantgegevens in Mijnwebwinkel aan."
            )
    return relation


def relation_changes(
    existing: ExistingRelation, relation: Relation
) -> tuple[dict[str, str], list[str]]:
    """What to update on a relation that already exists in e-Boekhouden (cRelatie field
    names), and Dutch warnings for values that differ: the VAT number and company name
    this order carries are filled in where the relation has none; a different non-empty
    value is kept, never overwritten silently."""
    changes: dict[str, str] = {}
    warnings: list[str] = []
    if relation.vat_number:
        if not existing.vat_number.strip():
            changes["BTWNummer"] = relation.vat_number
        elif normalise(existing.vat_number) != relation.vat_number:
            warnings.append(
                f"Relatie {existing.code} heeft in e-Boekhouden btw-nummer "
                f"{existing.vat_number}; deze bestelling vermeldt {relation.vat_number}. "
                "Het btw-nummer van de relatie is niet aangepast: controleer het."
            )
    if relation.company:
        if not existing.name.strip():
            changes.update(Bedrijf=relation.company, BP="B")
        elif existing.name.strip().casefold() != relation.company.casefold():
            warnings.append(
                f"Relatie {existing.code} heet in e-Boekhouden {existing.name}; deze "
                f"bestelling vermeldt bedrijf {relation.company}. De naam van de relatie is "
                "niet aangepast: controleer haar."
            )
    return changes, warnings
